"""The TRIPOD+AI checklist (Collins et al., BMJ 2024;385:e078378) as data: every item that concerns
the data and the model, its section and name, and what the researcher writes when a run cannot
answer it. :mod:`reporting` answers the items a run's files can; nothing here reads a run.
"""

GUIDELINE = "TRIPOD+AI (Collins et al., BMJ 2024;385:e078378)"
ANSWERED, RESEARCHER = "answered", "for the researcher"

# (item, section, TRIPOD+AI item, what the researcher writes: all of it, or what the run cannot say)
CHECKLIST = [
    ("1", "Title and abstract", "Title", "Name the study as developing and internally validating a model that "
     "predicts depression (PHQ-8) from facial behaviour (landmarks, or pose, gaze and action units), and for whom."),
    ("2", "Title and abstract", "Abstract", "A structured abstract following TRIPOD+AI for Abstracts."),
    ("3a", "Introduction", "Background: healthcare context and rationale",
     "The (diagnostic) context, why screen from facial movement, and existing models."),
    ("3b", "Introduction", "Background: target population, intended purpose and users",
     "Who would be screened, where in the care pathway the score would be used, and by whom."),
    ("3c", "Introduction", "Background: known health inequalities",
     "Known inequalities in detecting depression between sociodemographic groups."),
    ("4", "Introduction", "Objectives", "State that the study develops and internally validates (cross-validates) "
     "the model."),
    ("5a", "Methods", "Data: sources, rationale, representativeness",
     "Why these data, and how representative their participants are of the target population."),
    ("5b", "Methods", "Data: dates of collection", "The dates of participant accrual (the corpus' documentation)."),
    ("6a", "Methods", "Participants: setting and centres",
     "The study setting (the corpus' interviews), the number and location of centres."),
    ("6b", "Methods", "Participants: eligibility criteria", "The corpus' own recruitment criteria."),
    ("6c", "Methods", "Participants: treatments", "Treatments the participants received, if known, and their handling."),
    ("7", "Methods", "Data preparation", "Whether data quality differed between sociodemographic groups."),
    ("8a", "Methods", "Outcome: definition, time horizon, assessment",
     "Why PHQ-8, its time frame (the past two weeks), how and when it was collected."),
    ("8b", "Methods", "Outcome: assessors", "PHQ-8 is self-reported: say so, or describe any assessor."),
    ("8c", "Methods", "Outcome: blinding", "Whether the outcome was assessed blind to the recordings."),
    ("9a", "Methods", "Predictors: choice and pre-selection",
     "Why facial behaviour (landmarks, or pose, gaze and action units): the literature, the seed paper."),
    ("9b", "Methods", "Predictors: definition and measurement", "When in the interview the recording was made."),
    ("9c", "Methods", "Predictors: assessors", "The tracker measures the predictors; say whether anyone annotated them."),
    ("10", "Methods", "Sample size", "How the study size was arrived at (the corpus' size) and whether it suffices."),
    ("11", "Methods", "Missing data", ""),
    ("12a", "Methods", "Analytical methods: use of the data", ""),
    ("12b", "Methods", "Analytical methods: handling of predictors", ""),
    ("12c", "Methods", "Analytical methods: model, building steps, internal validation", "Why this type of model."),
    ("12d", "Methods", "Analytical methods: heterogeneity across clusters",
     "Clusters (centres, recording sites) in the data, and whether performance was compared across them."),
    ("12e", "Methods", "Analytical methods: performance measures and comparisons", ""),
    ("12f", "Methods", "Analytical methods: model updating", ""),
    ("12g", "Methods", "Analytical methods: how predictions are calculated", ""),
    ("13", "Methods", "Class imbalance", ""),
    ("14", "Methods", "Fairness", "Why these fairness analyses, and any approach beyond reporting by group."),
    ("15", "Methods", "Model output", ""),
    ("16", "Methods", "Training versus evaluation", ""),
    ("17", "Methods", "Ethical approval", "The ethics committee that approved the use of the corpus, and consent."),
    ("18a", "Open science", "Funding", "The sources of funding and the funders' role."),
    ("18b", "Open science", "Conflicts of interest", "Every author's conflicts of interest."),
    ("18c", "Open science", "Protocol", "Where the protocol is, or that none was prepared."),
    ("18d", "Open science", "Registration", "The registry and number, or that the study was not registered."),
    ("18e", "Open science", "Data sharing", "How others obtain the corpus (its licence); what of the run is shared."),
    ("18f", "Open science", "Code sharing", "Where the code is published."),
    ("19", "Open science", "Patient and public involvement", "Any patient and public involvement, or none."),
    ("20a", "Results", "Participants: flow", ""),
    ("20b", "Results", "Participants: characteristics", "What the run does not hold (age, ethnicity, treatments)."),
    ("20c", "Results", "Participants: development versus evaluation data", ""),
    ("21", "Results", "Model development: participants and events per analysis", ""),
    ("22", "Results", "Model specification", "Restrictions on access to, or re-use of, the fitted models."),
    ("23a", "Results", "Model performance", ""),
    ("23b", "Results", "Model performance: heterogeneity across clusters", "Performance across clusters, if examined."),
    ("24", "Results", "Model updating", ""),
    ("25", "Discussion", "Interpretation", "The interpretation, fairness included, against the objectives and "
     "earlier studies."),
    ("26", "Discussion", "Limitations", "A non-representative sample, sample size, overfitting, missing data; "
     "their effects."),
    ("27a", "Discussion", "Usability: poor-quality or unavailable input data",
     "How a user should judge an input before trusting its score."),
    ("27b", "Discussion", "Usability: user interaction and expertise",
     "Who handles the recordings and the score, and the expertise they need."),
    ("27c", "Discussion", "Usability: next steps", "External validation, applicability, generalisability."),
]
