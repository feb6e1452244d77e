"""Records-request deadlines: jurisdiction profiles as data, working-day calendars and a pure calculator."""
