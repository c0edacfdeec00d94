"""A small server-rendered web UI for the control plane under ``/ui``.

``extension`` installs it; ``pages`` holds the routes, ``auth`` the sign-in cookie and CSRF, ``forms``
the parsing of forms into the API's models, ``rendering`` the Jinja templates (``templates/``,
``static/``: package data), and ``actions`` the only calls into the API.
"""
