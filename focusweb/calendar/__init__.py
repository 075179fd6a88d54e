"""Each user's private iCalendar feed: focus meetings and, for sellers, open next steps."""
