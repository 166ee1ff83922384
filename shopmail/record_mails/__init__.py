"""record_mails"""
