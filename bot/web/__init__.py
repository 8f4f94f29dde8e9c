"""The web workspace: commissioners see every contract at a glance and act; providers submit and answer."""
