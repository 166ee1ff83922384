"""automatic"""
