"""CSS and JavaScript of the web server (a package only so that packaging ships them)."""
