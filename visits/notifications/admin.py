"""Notifications are not in the admin: each user reads and clears their own on the notifications page."""
