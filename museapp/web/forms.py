from django import forms

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
