"""warroom: ChatOps incident response."""
