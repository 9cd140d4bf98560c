"""Task forms: JSON Schemas with display hints, the live versions designers edit, and checking submissions."""
