"""A user's own settings: time zone, paper size for the recap, and which reminders to get."""
