"""Notification templates in Chinese and English.

Each template has a subject and a body with ``{placeholders}`` filled from the outbox message's
``params``. :func:`render` picks the locale (``zh``/``zh-CN`` → Chinese, anything else →
English) and raises ``NotFound`` for an unknown template (listing the known ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from perfcore.domain.errors import NotFound

__all__ = ["TEMPLATES", "render"]

TEMPLATES: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "review_opened": {
        "en": (
            "Review needed: {subject}",
            "A review of {subject} was opened ({trigger}). Please complete it by {due_at}.",
        ),
        "zh": (
            "待办评审：{subject}",
            "已为 {subject} 发起评审（{trigger}），请在 {due_at} 前完成。",
        ),
    },
    "review_reminder": {
        "en": (
            "Reminder: review of {subject} due {due_at}",
            "The review of {subject} is still open and is due by {due_at}.",
        ),
        "zh": (
            "提醒：{subject} 的评审将于 {due_at} 到期",
            "{subject} 的评审尚未完成，截止时间为 {due_at}。",
        ),
    },
    "review_escalated": {
        "en": (
            "Escalation: review of {subject} is overdue",
            "The review of {subject} assigned to {assignee} was due at {due_at} and is not done. "
            "Escalated to you (level {level}).",
        ),
        "zh": (
            "升级：{subject} 的评审已逾期",
            "分配给 {assignee} 的 {subject} 评审应于 {due_at} 完成，至今未完成，"
            "现升级给您（第 {level} 级）。",
        ),
    },
    "alert_raised": {
        "en": (
            "Alert: {indicator} for {subject}",
            "{reason} (period {period}).",
        ),
        "zh": (
            "预警：{subject} 的 {indicator}",
            "{reason}（周期 {period}）。",
        ),
    },
    "incentive_awarded": {
        "en": (
            "You earned {amount} {unit}",
            "Rule {rule} awarded {amount} {unit} to {subject} for {period}.",
        ),
        "zh": (
            "您获得了 {amount} {unit}",
            "规则 {rule} 为 {subject} 在 {period} 发放了 {amount} {unit}。",
        ),
    },
    "milestone_overdue": {
        "en": (
            "Milestone overdue: {milestone}",
            "Milestone {milestone} owned by {owner} was due at {due_at} and is not complete.",
        ),
        "zh": (
            "里程碑逾期：{milestone}",
            "由 {owner} 负责的里程碑 {milestone} 应于 {due_at} 完成，目前尚未完成。",
        ),
    },
    "calibration_published": {
        "en": ("Calibration published", "Calibration session {session} has been published."),
        "zh": ("校准结果已发布", "校准会议 {session} 的结果已发布。"),
    },
}


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, params: Mapping[str, str], locale: str = "en") -> tuple[str, str]:
    """``(subject, body)`` of ``template`` in ``locale`` with ``params`` filled in; unknown
    placeholders are left as ``{name}``."""
    found = TEMPLATES.get(template)
    if found is None:
        raise NotFound(
            f"unknown message template {template!r}",
            field="template",
            valid=", ".join(sorted(TEMPLATES)),
        )
    lang = "zh" if locale.lower().startswith("zh") else "en"
    subject, body = found[lang]
    values = _Params(params)
    return subject.format_map(values), body.format_map(values)
