"""Small building blocks shared by every domain package: typed errors, identifiers."""
