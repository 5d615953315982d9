"""Jinja2 templates of the web server (a package only so that packaging ships them)."""
