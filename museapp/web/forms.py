from django import forms

from museapp.chat.models import Preferences

COMPARE_ANSWERS_HELP = (
    "Now and then, when you use Contemplating, Muse also writes a quick answer and shows both "
    "side by side without saying which is which, so you can say which you prefer. Your choices "
    "show whether contemplating is worth its wait."
)


class SettingsForm(forms.Form):
    """The Settings page: one field per preference (chat.Preferences), each
    saved through chat.services.preferences_update."""

    # An unticked checkbox is absent from the post: False, never a missing field.
    compare_answers = forms.BooleanField(
        required=False,
        label="Blind comparisons",
        help_text=COMPARE_ANSWERS_HELP,
        widget=forms.CheckboxInput(attrs={"role": "switch"}),
    )
    about_me = forms.CharField(
        required=False,
        max_length=Preferences.INSTRUCTIONS_MAX_CHARS,
        label="What should Muse know about you?",
        help_text="For example your work, where you live, what you are learning. At most 1,500 characters.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    answer_style = forms.CharField(
        required=False,
        max_length=Preferences.INSTRUCTIONS_MAX_CHARS,
        label="How should Muse answer?",
        help_text="For example briefly, in British English, with an example. At most 1,500 characters.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    instructions_on = forms.BooleanField(
        required=False,
        label="Use my instructions",
        help_text="Muse reads both answers above before every reply, its agents and judge included. "
                  "An answer written with them says so under it.",
        widget=forms.CheckboxInput(attrs={"role": "switch"}),
    )
    contemplate_new_chats = forms.BooleanField(
        required=False,
        label="Contemplating in new chats",
        help_text="New chats start with Contemplating on; you can still switch it in each chat.",
        widget=forms.CheckboxInput(attrs={"role": "switch"}),
    )
