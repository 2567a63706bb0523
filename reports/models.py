"""Report models (the field-reports issue fills this module)."""
