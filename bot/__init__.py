"""Training bot for a Vietnamese province's cadres: services, configuration and assembly."""
