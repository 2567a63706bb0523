"""Messages that leave the system: a transactional outbox, its delivery channels (e-mail, SMS and
Zalo ZNS gateways, signed webhooks), per-tenant channel settings and editable templates.

Writers enqueue in the transaction of the change that causes the message (``outbox.enqueue``);
the background runner (reports/jobs.py) delivers after commit (``outbox.runner``)."""
