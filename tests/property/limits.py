"""Constants the properties share."""

# A value this long is never echoed: the longest value a message may repeat is a bucket name (63).
ECHO_MIN_CHARS = 64
# The Save function's actions: the discriminator of its payload.
SAVE_TAGS = ("open", "record", "succeeded", "requirements_not_met", "failed")
