"""The shape of a KPI framework file, validated on load: one module per part of the file.

A framework is what a contract's KPI schedule says, as data: the data items a provider enters, the indicators
computed from them, validation rules, payment rules and the returns with their due dates. Adding a contract means
writing a TOML file; nothing here knows any particular council.
"""

