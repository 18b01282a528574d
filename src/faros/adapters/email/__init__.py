"""E-mail senders: outbox folder, SMTP, Resend and Amazon SES.

Nothing is re-exported here on purpose: each provider pulls in its own client library
(httpx, aioboto3), so the composition root imports only the module it was configured for.
"""
