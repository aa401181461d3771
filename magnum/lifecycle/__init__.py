"""What a bay's life is made of: its states, its actions and their rules."""
