"""The member list, a member's page, address changes and invalid flags."""
