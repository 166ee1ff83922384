"""data_in"""
