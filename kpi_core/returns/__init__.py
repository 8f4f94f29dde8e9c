"""Return files: reading what providers send (CSV in long form, workbooks) into one canonical return."""
