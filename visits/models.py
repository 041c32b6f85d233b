# Models arrive with their issues (field work, evaluation).
