"""In-memory fakes of our own ports."""
