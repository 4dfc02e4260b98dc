"""The web console under ``/console`` (docs/console.md): server-rendered pages on the admin API's operations, so
everything it shows and does goes through the same role checks as the API."""
