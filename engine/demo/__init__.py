"""Demo data: units, one user per role, the enterprises and problems of sample_cases.json, run through the loop."""
