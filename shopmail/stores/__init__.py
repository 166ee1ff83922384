"""Store settings, sender rules, relays, the test mail and the mail server switch."""
