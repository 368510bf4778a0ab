"""The payment platform's protocol (Systempay form API): pure functions, no I/O."""
