"""One dialogue layer for every channel: a message or a button press plus the chat's context → replies.

Telegram (bot/telegram) and the terminal (`regiobot chat`) both call it, so commands, buttons, follow-ups,
small talk and "Meinten Sie …?" behave the same in both. It knows the engine's API and the store, nothing of
Telegram. Calls block (the engine encodes, the store writes): Telegram runs them in a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar

from bot import calendar, notices
from bot.answer import Answer, Engine, followup
from bot.answer.followup import Step
from bot.config import Config
from bot.dialogue import smalltalk
from bot.dialogue.context import ChatContext, Contexts
from bot.dialogue.replies import Button, Reply, fits, label, menu, text
from bot.knowledge import Event, FundingCall
from bot.store import Store, StoredQuestion, new_token

T = TypeVar("T")

log = logging.getLogger("regiobot.dialogue")

COMMANDS = [
    ("start", "Begrüßung und Überblick"),
    ("hilfe", "Was kann ich fragen?"),
    ("termine", "Anstehende Termine"),
    ("foerderung", "Offene und kommende Förderaufrufe"),
    ("kontakt", "Ansprechpersonen zu einem Thema, z. B. /kontakt Tourismus"),
]
ALIASES = {"help": "hilfe", "forderung": "foerderung", "förderung": "foerderung", "kontakte": "kontakt"}
FALLBACK_EXAMPLE = "Wann ist der nächste Regionaldialog?"


@dataclass(frozen=True)
class Chat:
    """Who is talking: a channel-scoped chat id ("tg:42", "terminal"), the user (hashed when stored), the chat kind."""

    id: str
    user_id: int | None = None
    kind: str = "private"


@dataclass
class Pressed:
    """The result of a button press: a short notice on the button (Telegram toast) and replies."""

    notice: str | None = None
    replies: list[Reply] | None = None
    done: bool = False
    """The pressed button has done its job and can go ("Weitere Treffer")."""


class Dialogue:
    def __init__(
        self,
        engine: Engine,
        store: Store | None,
        config: Config,
        contexts: Contexts | None = None,
        reminders: bool = False,
    ):
        self.engine, self.store, self.config = engine, store, config
        self.reminders = reminders
        """The channel can send later (Telegram): answers about a call or event offer "🔔 Erinnern"."""
        self.contexts = contexts if contexts is not None else Contexts(config.dialogue.context_minutes * 60)

    # ----------------------------------------------------------------- messages

    def message(self, chat: Chat, message: str, today: date | None = None) -> list[Reply]:
        """A typed message: a command, the topic /kontakt asked for, small talk, a follow-up or a new question."""
        message = " ".join(message.split())
        ctx = self.contexts.get(chat.id)
        if message.startswith("/"):
            name, _, args = message[1:].partition(" ")
            return self.command(chat, name.split("@")[0], args, today)
        if not message:
            return [Reply(text("empty", ctx.language, example=self._example()))]
        limit = self.config.telegram.max_question_chars
        if len(message) > limit:
            return [Reply(text("too_long", ctx.language, n=len(message), max=limit))]
        if ctx.awaiting_topic:
            self.contexts.put(chat.id, replace(ctx, awaiting_topic=False))
            return self.contacts(chat, message, today)
        if (talk := smalltalk.classify(message)) is not None:
            return [
                Reply(
                    smalltalk.reply_text(talk, self._example()),
                    buttons=menu(talk.language),
                    intent="smalltalk",
                )
            ]
        question = smalltalk.strip_pleasantries(message)
        answer = self._follow_up(chat, ctx, question, today) if ctx.focus else None
        if answer is None:
            answer = self.engine.ask(question, today=today)
            # "bis wann kann man sich bewerben?": unknown words made it a new question, which found nothing
            if answer.intent == "none" and ctx.focus:
                answer = self._follow_up(chat, ctx, question, today, strict=False) or answer
        return [self._reply(chat, ctx, answer, "frage", question, today)]

    def answer(self, message: str, today: date | None = None) -> Answer:
        """One message without a conversation (`regiobot ask`): small talk is recognised, not answered from knowledge."""
        if (talk := smalltalk.classify(message)) is not None:
            reply = smalltalk.reply_text(talk, self._example())
            return Answer(
                question=message, intent="smalltalk", found=False, text=reply, language=talk.language
            )
        return self.engine.ask(smalltalk.strip_pleasantries(message), today=today)

    def _follow_up(
        self, chat: Chat, ctx: ChatContext, question: str, today: date | None, strict: bool = True
    ) -> Answer | None:
        """The message as a follow-up about the last answer, or None when it is a new question."""
        assert ctx.focus is not None
        answer = self.engine.follow_up(ctx.focus, question, today, strict=strict)
        if answer is None:
            return None
        if ctx.listed:  # "bis wann?" after a list of three calls: which one?
            options = list(ctx.shown[:3])
            titles = " / ".join(f"„{o.title}“" for o in options)
            return replace(
                answer,
                intent="clarify",
                found=False,
                text=text("which", answer.language, titles=titles),
                source_note="",
                sources=options,
                options=options,
            )
        shown_already = answer.found and ctx.token is not None and answer.text.split("\n")[0] in ctx.text
        if shown_already and followup.kind_of(self.engine.understand(question)) == "more":
            stored = self._stored(ctx.token, chat)  # the whole entry was shown already: further results
            if stored is not None and stored.more:
                return replace(answer, text="\n\n".join(stored.more), source_note="", sources=[])
        return answer

    def command(self, chat: Chat, name: str, args: str = "", today: date | None = None) -> list[Reply]:
        """/start, /hilfe, /termine, /foerderung, /kontakt [Thema]; anything else gets the help."""
        name = ALIASES.get(name.lower(), name.lower())
        args = " ".join(args.split())
        if name == "start":
            self.contexts.forget(chat.id)
            return [self._welcome()]
        language = self.contexts.get(chat.id).language
        if name == "termine":
            answer = self.engine.upcoming_events(today, language)
            return [self._reply(chat, ChatContext(), answer, "termine", "/termine", today)]
        if name == "foerderung":
            answer = self.engine.funding_overview(today, language)
            return [self._reply(chat, ChatContext(), answer, "foerderung", "/foerderung", today)]
        if name == "kontakt":
            if args:
                return self.contacts(chat, args, today)
            ctx = self.contexts.get(chat.id)
            self.contexts.put(chat.id, replace(ctx, awaiting_topic=True))
            return [Reply(text("ask_topic", ctx.language, example=self._topic_example()), prompt="Thema")]
        return [self._help()]

    def contacts(self, chat: Chat, topic: str, today: date | None = None) -> list[Reply]:
        limit = self.config.telegram.max_question_chars
        if len(topic) > limit:
            return [Reply(text("too_long", n=len(topic), max=limit))]
        answer = self.engine.contacts_for(topic, today)
        return [self._reply(chat, self.contexts.get(chat.id), answer, "kontakt", f"Kontakt: {topic}", today)]

    # ----------------------------------------------------------------- buttons

    def button(self, chat: Chat, data: str, today: date | None = None) -> Pressed:
        """A pressed button. Unknown, malformed or stale data (a forged button) changes nothing."""
        kind, _, rest = data.partition(":")
        ctx = self.contexts.get(chat.id)
        if kind == "menu" and rest in ("termine", "foerderung", "kontakt", "hilfe"):
            return Pressed(replies=self.command(chat, rest, "", today))
        if kind == "fb":
            token, _, sign = rest.partition(":")
            if sign in ("+", "-") and self.store is not None:
                vote = 1 if sign == "+" else -1
                known = self._safely(self.store.record_feedback_by_token, token, chat.id, chat.user_id, vote)
                return Pressed(text("thanks", ctx.language) if known else text("expired", ctx.language))
        if kind == "more":
            stored = self._stored(rest, chat)
            if stored is None:
                return Pressed(text("expired", ctx.language))
            if not stored.more:
                return Pressed(text("no_more", ctx.language), done=True)
            return Pressed(
                replies=[Reply("\n\n".join(stored.more), title=label("more", ctx.language))], done=True
            )
        if kind == "pick":
            answer = None
            if rest in ctx.options:
                answer = self.engine.follow_up(rest, ctx.pending or "", today) if ctx.pending else None
                answer = answer or self.engine.answer_entry(rest, ctx.pending or "", today)
            if answer is None:
                return Pressed(text("expired", ctx.language))
            return Pressed(
                replies=[self._reply(chat, ctx, answer, "auswahl", ctx.pending or answer.question, today)]
            )
        if kind == "ics":
            entry = self.engine.entry(rest)
            data = calendar.entry_calendar(entry) if entry is not None else None
            if data is None:
                return Pressed(text("no_calendar" if entry is not None else "expired", ctx.language))
            assert entry is not None
            name = calendar.filename(entry)
            reply = Reply(text("calendar", ctx.language, title=entry.title, file=name), document=(name, data))
            return Pressed(replies=[reply])
        if kind == "step":
            step, _, entry_id = rest.partition(":")
            answer = self.engine.step(step, entry_id, today, ctx.language)
            if answer is None:
                notice = text("no_next", ctx.language) if step == "next" else text("expired", ctx.language)
                return Pressed(notice)
            return Pressed(replies=[self._reply(chat, ctx, answer, "schritt", answer.question, today)])
        return Pressed(text("expired", ctx.language))

    # ----------------------------------------------------------------- replies

    def _reply(
        self, chat: Chat, ctx: ChatContext, answer: Answer, kind: str, question: str, today: date | None
    ) -> Reply:
        """An engine answer as a reply with its buttons; recorded for the report; the chat's context updated."""
        token = self._record(chat, answer, kind, question)
        language = answer.language
        if answer.intent == "clarify":
            options = tuple(o.id for o in answer.options)
            self.contexts.put(
                chat.id, replace(ctx, pending=question, options=options, language=language, listed=False)
            )
            rows = [[Button(o.title[:60], f"pick:{o.id}")] for o in answer.options if fits(f"pick:{o.id}")]
            return Reply(answer.text, answer=answer, buttons=rows + menu(language)[1:], token=token)
        if (answer.found or answer.intent == "partial") and answer.sources:
            shown = tuple(answer.sources)
            self.contexts.put(
                chat.id,
                ChatContext(
                    focus=answer.about or shown[0].id,
                    shown=shown,
                    listed=answer.listed and len(shown) > 1,
                    text=answer.text,
                    token=token,
                    language=language,
                ),
            )
        elif kind == "frage":
            self.contexts.put(
                chat.id, ChatContext(language=language)
            )  # a new, unknown topic: forget the old one
        if not answer.found:
            return Reply(answer.text, answer=answer, buttons=menu(language), token=token)
        rows: list[list[Button]] = []
        steps = [self._step_button(s, language) for s in self.engine.steps(answer, today)]
        steps += self._item_buttons(answer, language)
        if steps := [b for b in steps if b is not None]:
            rows += [steps[i : i + 2] for i in range(0, len(steps), 2)]
        if answer.more and token is not None:
            rows.append([Button(label("more", language), f"more:{token}")])
        if token is not None:
            rows.append([Button("👍", f"fb:{token}:+"), Button("👎", f"fb:{token}:-")])
        return Reply(answer.text, answer=answer, buttons=rows, token=token)

    def _item_buttons(self, answer: Answer, language: str) -> list[Button | None]:
        """Under an answer about one call or event: add it to a calendar; be reminded of it (where the channel
        can send later)."""
        entry = self.engine.entry(answer.sources[0].id) if answer.sources and not answer.listed else None
        if not isinstance(entry, Event | FundingCall):
            return []
        out: list[Button | None] = []
        if calendar.has_calendar_day(entry) and fits(f"ics:{entry.id}"):
            out.append(Button(label("calendar", language), f"ics:{entry.id}"))
        if self.reminders:
            out.append(
                Button(label("remind", language), f"abo:{notices.topic_key(notices.entry_topic(entry))}")
            )
        return out

    @staticmethod
    def _step_button(step: Step, language: str) -> Button | None:
        if step.kind == "source":
            return Button(label("source", language), url=step.url)
        data = f"step:{step.kind}:{step.entry_id}"
        return Button(label(step.kind, language), data) if fits(data) else None

    def _welcome(self) -> Reply:
        overview = self.engine.overview()
        lines = [
            "Ich beantworte Fragen zur regionalen Zusammenarbeit in Mitteldeutschland: Foren, "
            "Arbeitsgruppen, Veranstaltungen wie den Regionaldialog, Förderaufrufe und Ansprechpersonen.",
            "",
            f"Mein Wissen umfasst {overview.entries} Einträge, unter anderem zu:",
        ]
        for name, items in (
            ("Regionen", overview.regions),
            ("Gremien und Netzwerke", overview.bodies),
            ("Themen", overview.topics),
        ):
            if items:
                lines.append(f"• {name}: {_listing(items)}")
        lines += ["", f"Fragen Sie einfach, z. B. „{self._example()}“ – oder wählen Sie unten:"]
        return Reply("\n".join(lines), title=text("welcome"), buttons=menu())

    def _help(self) -> Reply:
        examples = self.engine.example_questions(5)
        lines = ["Schreiben Sie Ihre Frage einfach als Nachricht – auf Deutsch oder Englisch."]
        if examples:
            lines += ["", "Zum Beispiel:", *(f"• {q}" for q in examples)]
        lines += [
            "",
            "Befehle:",
            *(f"/{name} – {about}" for name, about in COMMANDS if name != "start"),
            "",
            *(
                [
                    "Benachrichtigungen: /abo (Förderung, Termine oder ein Thema), /abos, /abbestellen, "
                    "/datenschutz – und „🔔 Erinnern“ unter Antworten zu Terminen und Förderaufrufen.",
                    "",
                ]
                if self.reminders
                else []
            ),
            "Nachfragen verstehe ich auch: „und wo?“, „bis wann?“, „und wer ist da Ansprechpartner?“, "
            "„und der danach?“, „mehr dazu“.",
            "In Gruppen antworte ich auf Befehle und auf Nachrichten, die mich erwähnen oder auf meine "
            "Nachrichten antworten.",
            "Unter jeder Antwort können Sie mit 👍 oder 👎 sagen, ob sie geholfen hat – so erfahren wir, welches "
            "Wissen noch fehlt.",
        ]
        return Reply("\n".join(lines), title=text("help_title"))

    # ----------------------------------------------------------------- helpers

    def _example(self) -> str:
        try:
            examples = self.engine.example_questions(1)
        except Exception:
            log.exception("example_questions fehlgeschlagen")
            examples = []
        return examples[0] if examples else FALLBACK_EXAMPLE

    def _topic_example(self) -> str:
        topics = self.engine.overview().topics
        return topics[0] if topics else "Tourismus"

    def _record(self, chat: Chat, answer: Answer, kind: str, question: str) -> str | None:
        """Queue the question for the report (never waiting for the store); the returned token binds the
        answer's buttons to this chat. None when the store did not take it: then the answer has no buttons
        that need it."""
        if self.store is None:
            return None
        token = new_token()
        top = answer.sources[0] if answer.found and answer.sources else None
        stored = self._safely(
            self.store.record_question,
            user_id=chat.user_id,
            chat_kind=chat.kind,
            kind=kind,
            question=question,
            intent=answer.intent,
            found=answer.found,
            source_id=top.id if top else None,
            source_title=top.title if top else None,
            answer=answer.text if answer.found else "",
            more=list(answer.more or []),
            token=token,
            chat=chat.id,
        )
        return token if stored is not None else None

    def _stored(self, token: str, chat: Chat) -> StoredQuestion | None:
        """The recorded answer behind a button token – only in the chat it was sent to."""
        return self._safely(self.store.question_by_token, token, chat.id) if self.store is not None else None

    @staticmethod
    def _safely(func: Callable[..., T], *args: object, **kwargs: object) -> T | None:
        try:
            return func(*args, **kwargs)
        except Exception:
            log.exception("Speicher nicht verfügbar (%s)", getattr(func, "__name__", func))
            return None


def _listing(items: list[str], shown: int = 8) -> str:
    text_ = ", ".join(items[:shown])
    return text_ + (f" und {len(items) - shown} weitere" if len(items) > shown else "")
