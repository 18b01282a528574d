"""The e-mails FAROS sends: subject, plain text and HTML, every user value escaped."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from faros.domain.text import one_line


@dataclass(slots=True, frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str


def _preview(content: str) -> str:
    return content if len(content) <= 100 else content[:97] + "..."


def _html_page(paragraphs: list[str], link: str, label: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    button = (
        f'<p><a href="{escape(link, quote=True)}" '
        'style="display:inline-block;padding:10px 16px;background:#2563eb;color:#fff;'
        f'text-decoration:none;border-radius:6px">{escape(label)}</a></p>'
    )
    return f"<!doctype html><html><body>{body}{button}</body></html>"


def _tasks_link(frontend_url: str) -> str:
    return f"{frontend_url.rstrip('/')}/tasks"


def task_shared(
    to: str, actor: str, task_title: str, permission: str, frontend_url: str
) -> EmailMessage:
    link = _tasks_link(frontend_url)
    text = (
        f'{actor} shared the task "{task_title}" with you ({permission} access).\n\n'
        f"Open FAROS: {link}\n"
    )
    html = _html_page(
        [
            f"<strong>{escape(actor)}</strong> shared the task "
            f"&ldquo;{escape(task_title)}&rdquo; with you ({escape(permission)} access)."
        ],
        link,
        "Open FAROS",
    )
    return EmailMessage(to, one_line(f"Task Shared: {task_title}"), text, html)


def comment_added(
    to: str, actor: str, task_title: str, content: str, frontend_url: str
) -> EmailMessage:
    link = _tasks_link(frontend_url)
    preview = _preview(content)
    text = f'{actor} commented on your task "{task_title}":\n\n{preview}\n\nOpen FAROS: {link}\n'
    html = _html_page(
        [
            f"<strong>{escape(actor)}</strong> commented on your task "
            f"&ldquo;{escape(task_title)}&rdquo;:",
            f"<em>{escape(preview)}</em>",
        ],
        link,
        "Open FAROS",
    )
    return EmailMessage(to, one_line(f"New Comment: {task_title}"), text, html)


def task_completed(to: str, actor: str, task_title: str, frontend_url: str) -> EmailMessage:
    link = _tasks_link(frontend_url)
    text = f'{actor} marked your task "{task_title}" as completed.\n\nOpen FAROS: {link}\n'
    html = _html_page(
        [
            f"<strong>{escape(actor)}</strong> marked your task "
            f"&ldquo;{escape(task_title)}&rdquo; as completed."
        ],
        link,
        "Open FAROS",
    )
    return EmailMessage(to, one_line(f"Task Completed: {task_title}"), text, html)


def task_due_soon(to: str, task_title: str, due: str, frontend_url: str) -> EmailMessage:
    link = _tasks_link(frontend_url)
    text = f'The task "{task_title}" is due on {due}.\n\nOpen FAROS: {link}\n'
    html = _html_page(
        [f"The task &ldquo;{escape(task_title)}&rdquo; is due on {escape(due)}."],
        link,
        "Open FAROS",
    )
    return EmailMessage(to, one_line(f"Task Due Soon: {task_title}"), text, html)


def verification(to: str, username: str, token: str, frontend_url: str) -> EmailMessage:
    link = f"{frontend_url.rstrip('/')}/verify?token={quote(token)}"
    text = (
        f"Hi {username},\n\nPlease verify your FAROS e-mail address by opening this link:\n"
        f"{link}\n\nThe link expires in 24 hours.\n"
    )
    html = _html_page(
        [
            f"Hi {escape(username)},",
            "Please verify your FAROS e-mail address.",
            "The link expires in 24 hours.",
        ],
        link,
        "Verify e-mail",
    )
    return EmailMessage(to, "Verify your FAROS email address", text, html)


def password_reset(to: str, username: str, token: str, frontend_url: str) -> EmailMessage:
    link = f"{frontend_url.rstrip('/')}/password-reset?token={quote(token)}"
    text = (
        f"Hi {username},\n\nSomeone asked to reset your FAROS password. To choose a new one, "
        f"open this link:\n{link}\n\nThe link expires in 30 minutes. If it was not you, "
        "ignore this e-mail.\n"
    )
    html = _html_page(
        [
            f"Hi {escape(username)},",
            "Someone asked to reset your FAROS password.",
            "The link expires in 30 minutes. If it was not you, ignore this e-mail.",
        ],
        link,
        "Reset password",
    )
    return EmailMessage(to, "Reset your FAROS password", text, html)
