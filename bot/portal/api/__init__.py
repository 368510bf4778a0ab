"""HTTP edge of the portal: thin handlers over the services."""
