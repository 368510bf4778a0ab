"""Email transport: SMTP delivery, the development SMTP sink and the dev mailbox reader."""
