"""Persistence: the tables, sessions and the one transaction boundary, migrations, version pointers, the text index, the attachment stores."""
