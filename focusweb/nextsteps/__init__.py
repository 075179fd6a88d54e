"""Next steps between meetings: My next steps, and each account's history of next steps."""
