"""The shared web edge of the portal and the staff console: errors mapped to HTTP statuses,
defensive request inputs, cookies, and the layout and error page every package extends."""
