"""Phrases of the SYNTHETIC responses the topic benchmarks generate (nothing is survey data).

A response is ``opener + subject + verdict + tail``; each benchmark plants its own subjects.
"""

OPENERS = ["I feel that", "Honestly,", "To be fair,", "In my experience", "This month",
           "Since the last meeting", "I think", "For me", "As a team we noticed that", ""]
VERDICTS = ["is getting better", "is a real problem", "makes me anxious", "has really helped",
            "needs more thought", "is frustrating", "feels safer than before",
            "could be improved with more time", "is not discussed enough", "works well"]
TAILS = ["", "and I would like to see change", "because nobody listens",
         "which I did not expect", "and colleagues agree", "especially for newer staff",
         "when we are short staffed", "and it affects patient care", "in the evenings",
         "so thank you to the facilitators"]
