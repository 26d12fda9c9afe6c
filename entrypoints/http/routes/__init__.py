"""HTTP route handlers, grouped by resource. Each is DTO -> command -> use case -> DTO."""
