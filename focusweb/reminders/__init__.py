"""E-mail reminders that keep the plan moving: prep list, step due today, step gone overdue."""
