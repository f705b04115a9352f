// Placeholder until the data readers land.
