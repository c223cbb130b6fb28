"""Writing and reading USD: animated skeletons, stage conventions, validation."""
