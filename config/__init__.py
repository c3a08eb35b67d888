"""Project configuration: settings, the URL modules and the WSGI entry point. It sits above every app, so the
apps themselves import nothing from here."""
