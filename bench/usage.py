"""The meter's counts (bench.latency): what a bill counts, and which verdicts the judge gave."""

from dataclasses import dataclass, field, fields

from bench.verdicts import Position


@dataclass
class Usage:
    """What one execution (or one reference run) used."""

    images: int = 0  # InvokeModel answers that carried an image: billed
    image_calls: int = 0  # every InvokeModel call, refused or throttled ones too
    throttled: int = 0
    judge_calls: int = 0
    reviser_calls: int = 0
    input_tokens: int = 0  # estimated from the request (image tokens by Claude's rule, text at 4 chars a token)
    output_tokens: int = 0
    reported_input_tokens: int = 0  # as the stand-in's replies report them
    reported_output_tokens: int = 0
    lambda_requests: int = 0
    lambda_gb_s: float = 0.0  # at the real model latency, each invocation rounded up to 1 ms
    s3_writes: int = 0  # PUT, COPY, POST, LIST
    s3_reads: int = 0  # GET, HEAD and the rest
    s3_free: int = 0  # DELETE
    model_s: float = 0.0  # wall seconds spent inside Bedrock calls (simulated latency + the stand-in's work)
    # Per attempt (revision, attempt): whether a judge looked at any of its images.
    attempts: dict[tuple[int, int], bool] = field(default_factory=dict)
    verdicts: list[tuple[Position, bool]] = field(default_factory=list)

    def add(self, other: "Usage") -> None:
        for f in fields(self):
            mine = getattr(self, f.name)
            if isinstance(mine, int | float):
                setattr(self, f.name, mine + getattr(other, f.name))
