"""The landlord's rules shared by the portal, the console and the chat: validation of what
tenants type (``rules``), money (``money``), French dates (``french_dates``), when staff
answer (``opening_hours``, public holidays included). Pure functions, no I/O, no web."""
