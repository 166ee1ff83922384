"""Mails from the order, shipment and quote lists: lists, drafts, the record block and
record-mail templates."""
