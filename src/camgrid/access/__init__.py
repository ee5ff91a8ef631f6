"""Who may do what: users, roles, sessions and tokens, login rate limits (audit and district scopes: issue 7)."""
