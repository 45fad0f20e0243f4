"""The ``classify`` rules section: kinds, their labels and signals, weights, threshold, model."""
from __future__ import annotations

from ...rules import Bool, Field, Float, Int, List, Map, Obj, Section, Str

KIND = Obj({
    "label": Field(Str(), required=True, doc="The label that marks this kind."),
    "aliases": Field(List(Str()), doc="Other labels that mean this kind (read, never added)."),
    "form_labels": Field(List(Str()), doc="Labels an issue form applies that mean this kind."),
    "headings": Field(List(Str()), doc="Body headings (from templates) that point to this kind; "
                                       "matched case-insensitively at the start of a heading."),
    "title_prefixes": Field(List(Str()), doc="Title prefixes and conventional tags, e.g. '[Bug]', 'feat:'."),
    "phrases": Field(List(Str()), doc="Regular expressions searched in title and body."),
})

DEFAULT_KINDS = {
    "bug": {
        "label": "bug", "aliases": ["kind/bug", "type: bug"], "form_labels": [],
        "headings": ["steps to reproduce", "repro steps", "to reproduce", "expected behavior",
                     "expected behaviour", "actual behavior", "actual behaviour", "current behavior",
                     "current behaviour", "describe the bug", "error message", "relevant log output"],
        "title_prefixes": ["[bug]", "bug:", "bug report", "fix:", "fix(", "[crash]", "regression:"],
        "phrases": [r"\b(crash(es|ed)?|segfault|traceback|stack trace|regression)\b",
                    r"\b(doesn't|does not|no longer) work", r"\bunexpected(ly)?\b"],
    },
    "feature": {
        "label": "feature", "aliases": ["enhancement", "kind/feature", "type: feature", "feature request"],
        "form_labels": [],
        "headings": ["is your feature request related to a problem", "describe the solution you'd like",
                     "proposed solution", "proposal", "motivation", "describe alternatives"],
        "title_prefixes": ["[feature]", "feature request", "feat:", "feat(", "[rfc]", "rfc:",
                           "proposal:", "[proposal]", "[enhancement]", "enhancement:"],
        "phrases": [r"\bwould be (nice|great|useful|helpful)\b", r"\bfeature request\b",
                    r"\b(please add|add support for|support for)\b"],
    },
    "question": {
        "label": "question", "aliases": ["kind/question", "type: question"], "form_labels": [],
        "headings": ["question", "your question"],
        "title_prefixes": ["[question]", "question:", "q:", "[help]", "help:", "how to", "how do i",
                           "how can i"],
        "phrases": [r"\b(how (do|can|should) i|is it possible to|is there a way)\b"],
    },
    "documentation": {
        "label": "documentation", "aliases": ["docs", "kind/docs", "type: docs"], "form_labels": [],
        "headings": ["documentation link", "which page"],
        "title_prefixes": ["docs:", "doc:", "[docs]", "docs(", "[documentation]", "documentation:"],
        "phrases": [r"\b(typo|readme|docstring|broken link)\b"],
    },
}

WEIGHTS = Obj({
    "form_label": Field(Float(min=0), default=3.0, doc="A label applied by an issue form."),
    "heading": Field(Float(min=0), default=1.0, doc="Each matching template heading."),
    "title_prefix": Field(Float(min=0), default=2.0, doc="A title prefix or conventional tag."),
    "phrase": Field(Float(min=0), default=0.5, doc="Each matching phrase."),
    "model": Field(Float(min=0), default=6.0, doc="Multiplies the text model's probability."),
    "unknown": Field(Float(min=0), default=1.0,
                     doc="Mass of 'no idea' in the confidence: keeps one weak signal from looking certain."),
})

SECTION = Section(
    name="classify",
    doc="Classification of new issues into kinds (bug, feature, question, documentation...).",
    schema=Obj({
        "kinds": Field(Map(KIND), default=DEFAULT_KINDS,
                       doc="Kinds by name. A repository override adds kinds or changes the ones it "
                           "names; the routing section says where each kind goes."),
        "threshold": Field(Float(min=0, max=1), default=0.5,
                           doc="Below this confidence the issue gets needs_triage_label and one question."),
        "weights": Field(WEIGHTS, doc="Weight of each signal in a kind's score."),
        "needs_triage_label": Field(Str(), default="needs-triage"),
        "ask_comment": Field(Str(), default=(
            "Thanks for the report! I could not tell what kind of issue this is. "
            "Could you tell us by commenting one of: {commands}?"),
            doc="The one comment asking the author to pick a kind; {commands} lists the choices."),
        "model_path": Field(Str(), default="",
                            doc="A model file made with 'python -m bot classify train' (on the bot's "
                                "host). Empty: rule signals, plus a model learnt from the repository's "
                                "labelled history and the kinds humans confirmed, once there are enough."),
        "learn_from_history": Field(Bool(), default=True,
                                    doc="Read the issues people gave a kind label (the classify-history job) "
                                        "and learn from them."),
        "history_per_kind": Field(Int(min=1, max=2000), default=250,
                                  doc="Labelled issues read per kind, newest first (training time grows with it)."),
        "history_refresh_days": Field(Int(min=1), default=7,
                                      doc="How often the labelled history is read again."),
        "learn_from_feedback": Field(Bool(), default=True,
                                     doc="Learn from the kinds humans confirmed (/kind, a maintainer's label)."),
        "feedback_min_per_kind": Field(Int(min=2), default=10,
                                       doc="Examples (from history or confirmed) each of two kinds needs before "
                                           "the learnt model is used."),
        "label_maintainer_roles": Field(List(Str(choices=("maintainer", "triager", "approver"))),
                                        default=["maintainer", "triager"],
                                        doc="Whose change of a kind label counts as a human decision."),
    }),
)
