"""The web server's routes, one module per area (sign-in, intake, districts, runs, roster, staff)."""
