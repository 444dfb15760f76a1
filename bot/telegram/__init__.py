"""The Telegram channel (python-telegram-bot v22)."""

from bot.telegram.app import TelegramAdapter, build_application, run_telegram

__all__ = ["TelegramAdapter", "build_application", "run_telegram"]
