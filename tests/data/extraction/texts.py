"""Article bodies and metadata for the labelled extraction pages (fictional outlets and people)."""

# ruff: noqa: E501
ARTICLES = {}

ARTICLES["nav-heavy"] = dict(
    title="Open-weight models are closing the gap with closed systems, study finds",
    author="Priya Raman",
    date="2026-03-12T09:30:00+00:00",
    site="The Northgate Ledger",
    lang="en",
    paras=[
        "A year-long comparison of publicly downloadable language models against the best commercial systems found that the performance gap between the two camps has shrunk to a few months, according to a study released on Thursday by researchers at the Halden Institute.",
        "The researchers tracked 41 models on a fixed set of reasoning, coding and translation tasks, re-running every test whenever a new version appeared. In early 2025 the strongest open-weight model trailed the leading closed system by roughly eighteen months of progress. By February the lag had fallen to about four months.",
        "## What changed",
        "The authors credit three developments: Meta's decision to publish the weights of ever larger Llama models, a wave of efficient mixture-of-experts designs from smaller labs, and better public datasets for fine-tuning. \"Once the weights are out, thousands of people start improving them at the same time,\" said Tomas Ekberg, one of the study's authors.",
        "Closed-model developers dispute the framing. A spokesperson for one large lab said benchmark averages hide differences in reliability and safety testing that matter to customers, and that the most capable systems are still not available for download.",
        "## Caveats",
        "The study relies on automated benchmarks, which can leak into training data and reward models tuned to the tests. The researchers said they held back a private set of questions to check for contamination and found no sign of it in the top five models, but cautioned that the private set was small.",
        "Policy makers are likely to read the findings closely. Several governments are weighing rules that would treat models differently depending on whether their weights are published, and a narrowing gap weakens the argument that open releases are always far behind the frontier.",
    ],
)

ARTICLES["comments"] = dict(
    title="The fight over what counts as open-source AI is not a technicality",
    author="Daniel Osei",
    date="2026-02-02T07:00:00+00:00",
    site="Civic Tech Review",
    lang="en",
    paras=[
        "When a company calls its AI model open source, it borrows the credibility of a movement that spent decades arguing about licences, freedoms and the right to fork. That is why the argument over the label, which can sound like pedantry, deserves attention from anyone who uses or regulates these systems.",
        "Traditional open-source licences guarantee that anyone can use, study, modify and share software for any purpose. Many of the most popular model releases fall short of that. Their licences restrict use by very large companies, forbid certain applications, or require users to accept an acceptable-use policy that the developer can change.",
        "Publishing weights without training data adds another gap. Researchers can run and fine-tune such a model, but they cannot rebuild it or fully inspect what it learned from. Advocates of a strict definition argue that this makes independent auditing of bias and copyright questions close to impossible.",
        "Developers respond that releasing trillions of tokens of scraped text raises legal and privacy problems of its own, and that open weights already deliver most of the practical benefits: local deployment, lower costs and the freedom to adapt a model without asking permission.",
        "Both sides have a point, which is exactly why the words matter. Regulators in Brussels and Washington are writing exemptions for open-source models into law. If the term can be claimed by any release with downloadable weights and a restrictive licence, those exemptions will reward marketing rather than openness.",
        "A workable compromise is to stop using one label for everything. Open weights, open data and open source describe different things, and each deserves its own name and its own treatment in policy.",
    ],
    comments=[
        (
            "kestrel_88",
            "Great piece. The open source definition debate has been going on forever though, and honestly the Llama licence is not open source by any sensible reading.",
        ),
        (
            "M. Varga",
            "I disagree with the conclusion. Open weights are what matter to developers. Nobody is going to retrain a 400 billion parameter model from the training data anyway.",
        ),
        (
            "datawonk",
            "Regulators will use whatever definition lobbyists give them. The AI safety people and the open source people should be working together on this instead of fighting.",
        ),
        (
            "Ruth A.",
            "Can someone explain why publishing weights is considered safe when fine-tuning can remove the safeguards? This article doesn't mention safety at all.",
        ),
        (
            "kestrel_88",
            "@Ruth A. that's a separate debate about frontier model risks; the piece is about licensing and definitions.",
        ),
    ],
)

ARTICLES["related-lists"] = dict(
    title="EU lawmakers weigh narrower exemptions for open models",
    author="Sofia Marchetti",
    date="2026-04-21T15:45:00+02:00",
    site="Brussels Briefing",
    lang="en",
    paras=[
        "Members of the European Parliament are considering tightening an exemption that spares providers of free and open-source AI models from several transparency duties, according to draft amendments seen by Brussels Briefing.",
        "The current text relieves open-source providers of documentation obligations unless their models are judged to pose systemic risk. Critics say the carve-out has been used by companies that publish model weights under licences restricting commercial use, which would not qualify as open source under most definitions.",
        "One amendment would limit the exemption to releases that publish weights, code and a detailed summary of training data under a licence allowing any use. Another would require providers to name the person responsible for answering questions from the new AI Office.",
        'Industry groups warned that the changes could discourage European start-ups from releasing models openly. "Small teams cannot afford a compliance department for every checkpoint they upload," said a representative of a Paris-based association of AI companies.',
        "Consumer organisations welcomed the proposals, arguing that openness claims should be verifiable. The committee is expected to vote on the amendments in June, before negotiations with member states begin.",
    ],
    related=[
        (
            "Commission publishes code of practice for general-purpose AI",
            "The voluntary code sets out how providers can show compliance with transparency and copyright rules before enforcement begins.",
        ),
        (
            "Start-ups ask for more time to meet AI Act deadlines",
            "A coalition of founders says guidance arrived too late for companies to adapt their documentation.",
        ),
        (
            "Analysis: who really benefits from open-source exemptions?",
            "Large firms may gain more than hobbyists from carve-outs written for community projects.",
        ),
        (
            "Member states split over AI Office funding",
            "Finance ministers disagree on how many staff the new regulator should employ.",
        ),
    ],
)

ARTICLES["cookie-banner"] = dict(
    title="Cheaper inference pushes start-ups toward open models",
    author="Grace Liu",
    date="2026-05-08T11:20:00-04:00",
    site="Venture Desk",
    lang="en",
    paras=[
        "For the founders of Lumen Ledger, an accounting software start-up with twelve employees, the decision to switch from a paid model API to an open-weight model running on rented graphics chips came down to a single spreadsheet.",
        "Their monthly bill for API calls had grown to more than $40,000 as customers adopted an automated invoice-reading feature. Running a fine-tuned open model on two rented servers costs them about a quarter of that, chief executive Marta Novak said, and response times improved because requests no longer travel to a distant data centre.",
        "Investors report that the pattern is becoming common. Of 60 early-stage companies in one fund's portfolio, more than half now run at least one open model in production, usually for narrow tasks such as classification, extraction or summarising documents, while keeping a closed model for harder requests.",
        "The savings are not automatic. Teams must handle updates, monitoring and security themselves, and several founders said they underestimated the engineering time needed to keep a self-hosted model reliable. Licence terms also need careful reading, since some popular models restrict use above certain user numbers.",
        "Closed-model providers have answered with steep price cuts, and some analysts expect the cost gap to narrow again. For now, though, many small companies see running their own models as insurance against sudden price changes by a single supplier.",
    ],
)

ARTICLES["legacy-cp1252"] = dict(
    title="Paris start-up’s compact model trained for under £2m",
    author="Émilie Durand",
    date="2026-06-17T08:00:00+01:00",
    site="Le Réseau Tech",
    lang="en",
    paras=[
        "A Paris-based start-up, Sérac Labs, says it trained a compact language model for less than £2m (about €2.3m) and will publish its weights under a permissive licence next week – a sign, its founders argue, that competitive models no longer require the budgets of the largest technology companies.",
        "“We wanted to show that a small team can build something useful in the open,” said co-founder Hélène Baptiste. The 9-billion-parameter model was trained on 4,000 rented chips over five weeks, using a mix of public web text, licensed news archives and code.",
        "Sérac’s benchmark results, which have not been independently verified, put the model close to systems twice its size on French and English reading comprehension. The company says it will also release a detailed description of its training data – something most larger developers decline to do.",
        "Analysts were cautious. “Cheap training runs are real, but they stand on the shoulders of expensive ones,” said Jérôme Falque, a researcher who studies AI economics. Much of the progress in small models, he noted, comes from techniques first developed by well-funded labs.",
        "The company’s investors include a French public bank and two venture funds. Its founders say revenue will come from support contracts and hosted versions of the model for businesses that prefer not to run it themselves.",
    ],
)

ARTICLES["table-article"] = dict(
    title="How the new open models compare on public benchmarks",
    author="Chris Adeyemi",
    date="2026-07-02T13:00:00+00:00",
    site="Benchmarks Weekly",
    lang="en",
    paras=[
        "Four open-weight model families were updated in June. We collected the scores their developers published on three widely used benchmarks and compared them with the best closed system available through an API.",
        "Developer-reported numbers should be read with care: labs choose which tests to report and sometimes use different prompting methods. Where independent results exist, they are usually a few points lower.",
        "TABLE",
        "The largest Llama model leads the open group on reasoning, while the smaller Mistral release is the most efficient for its size. None of the open systems matches the closed model on coding, though the gap on mathematics has nearly disappeared.",
        "We will update this comparison when independent evaluations from academic groups are published later this month.",
    ],
    table=[
        ["Model", "Parameters", "Reasoning", "Coding", "Maths"],
        ["Llama 5 Flagship", "480B", "88.1", "79.4", "91.0"],
        ["Mistral Medium Open", "70B", "83.6", "74.9", "86.2"],
        ["Qwen Open 4", "110B", "85.9", "77.1", "90.4"],
        ["OLMo 4", "32B", "78.2", "68.5", "80.7"],
        ["Best closed model", "undisclosed", "89.0", "84.8", "91.3"],
    ],
)

ARTICLES["pullquotes"] = dict(
    title="Safety researchers say fine-tuning can strip safeguards from open models in hours",
    author="Hannah Whitfield",
    date="2026-01-27T18:05:00+00:00",
    site="Frontier Watch",
    lang="en",
    paras=[
        "Safeguards that stop a language model from giving dangerous instructions can be removed from openly released models with a few hours of additional training on ordinary hardware, a group of AI safety researchers reported on Tuesday.",
        "The team fine-tuned three popular open-weight models on a small set of harmful questions paired with compliant answers. After less than two hours of training on a single graphics card, each model answered most requests it had previously refused.",
        "The safety training is a thin layer, and anyone with the weights can peel it off.",
        "The authors argue that developers and regulators should assume any released model can be modified in this way, and should judge the risks of a release by what the underlying model can do rather than by how it behaves out of the box.",
        "Supporters of open releases said the finding was not new and that the same information is often available elsewhere. They warned against using such studies to justify restrictions that would concentrate the technology in a few companies. Closed models, they noted, have also been tricked into ignoring their rules with clever prompts.",
        "The researchers said they had shared their results with the developers of the three models before publication and had not released the fine-tuned versions or the training data used to produce them.",
    ],
    pullquote="The safety training is a thin layer, and anyone with the weights can peel it off.",
)

ARTICLES["offtopic-cycle-lanes"] = dict(
    title="Council approves two new protected cycle lanes after heated meeting",
    author="Tom Barker",
    date="2026-03-30T20:10:00+01:00",
    site="Eastfield Echo",
    lang="en",
    paras=[
        "Eastfield council has approved two protected cycle lanes on Mill Road and Station Street after a three-hour meeting in which residents, shop owners and cycling groups argued over parking, deliveries and safety.",
        "The scheme will remove 46 parking spaces and add raised kerbs separating bicycles from traffic along a 1.2-kilometre route between the railway station and the town centre. Work is due to start in September and take about five months.",
        "Shop owners on Station Street said the loss of parking would hurt trade, pointing to a survey in which two thirds of their customers arrived by car. Councillors noted that the survey was carried out in December, when cycling levels are lowest.",
        'Supporters cited three serious collisions on Mill Road in the past two years. "Parents tell us they would let their children cycle to school if the route were safe," said a member of the Eastfield Cycling Campaign.',
        "The council said it would monitor traffic and business activity for a year after the lanes open and publish the results.",
    ],
    comments=[
        ("Jean P", "Finally. Mill Road is terrifying on a bike."),
        ("Mike from Eastfield", "Another waste of money. Where are delivery vans supposed to stop?"),
    ],
)

ARTICLES["div-soup-responses"] = dict(
    title="Open model downloads pass one billion as developers shift workloads",
    author="Ines Carvalho",
    date="2026-08-19T06:30:00+00:00",
    site="Daily Compute",
    lang="en",
    paras=[
        "Downloads of openly released AI models from the largest public model hub passed one billion this year, according to figures published by the platform on Monday, with the Llama, Qwen and Mistral families accounting for more than half of the total.",
        "The hub said most downloads were of small and medium-sized models that can run on a single server or a laptop, and that fine-tuned variants created by users now outnumber the original releases by roughly forty to one.",
        "Companies are using the models for customer support, internal search and document processing, often alongside a commercial model for more demanding work. Several chief technology officers told Daily Compute that keeping sensitive data on their own hardware mattered more to them than price.",
        "Download counts are an imperfect measure. Automated systems that rebuild software pipelines can fetch the same model thousands of times, and the hub does not separate those from human users. The platform said it had removed obvious duplicates but could not rule out inflation.",
        "The figures arrive as governments debate whether to restrict the release of the most capable models. Supporters of open releases say the numbers show how much of the software industry now depends on them; critics say they show how quickly a dangerous model would spread if one were published.",
    ],
    responses=[
        (
            "Arjun",
            "One billion downloads of open weights is meaningless when CI pipelines pull the same Llama checkpoint every night. I run a mirror and see it constantly.",
        ),
        (
            "openwatcher",
            "The safety argument cuts both ways. If a dangerous frontier model were released openly it would be everywhere in a week, but closed models leak too and nobody counts those.",
        ),
        (
            "Lena K",
            "We moved our internal search to a Qwen model last quarter. Costs dropped and nobody noticed the difference in quality. The licence review took longer than the migration.",
        ),
        (
            "pm_ramirez",
            "Would love to see the numbers broken down by licence. How many of these downloads are actually open source in the OSI sense versus open weights with restrictions?",
        ),
    ],
)

ARTICLES["short-paras-teasers"] = dict(
    title="Senators ask Meta to explain safeguards before next model release",
    author="Marcus Hale",
    date="2026-09-03T21:15:00+00:00",
    site="Capitol Tech",
    lang="en",
    paras=[
        "Key points:",
        "Two senators wrote to Meta about its next Llama release.",
        "They want details of safety testing before the weights are published.",
        "Meta says open models make AI safer by allowing outside scrutiny.",
        "Two US senators have asked Meta to explain how it tested its next Llama model for misuse before publishing the weights.",
        "The letter asks for details of red-team exercises.",
        "It also asks whether the company consulted government agencies.",
        "Meta has argued that releasing model weights allows researchers to find and fix problems faster.",
        "The senators gave the company until October 1 to reply.",
        "A Meta spokesperson said the company would respond.",
    ],
    teasers=[
        (
            "The long road to a federal AI law",
            "Congress has held more than forty hearings on artificial intelligence since 2023 without passing a comprehensive bill. Lawmakers from both parties say they want rules for the most powerful systems, but they disagree about whether open models should be treated differently, who should enforce any new requirements and how to avoid slowing American companies in their competition with Chinese developers.",
        ),
        (
            "Inside the lobbying fight over open weights",
            "Technology companies spent record sums on lobbying last year, and a growing share went to arguments about model weights. Open-source advocates, start-ups and some large firms argue that publishing weights spreads the benefits of AI, while several safety groups and rival labs argue that it makes misuse impossible to control once a model is released.",
        ),
    ],
)

ARTICLES["span-paragraphs"] = dict(
    title="Chip export rules could reach model weights, officials signal",
    author="Ray Donnelly",
    date="2026-09-10T14:40:00-04:00",
    site="Trade Signal",
    lang="en",
    paras=[
        "Commerce Department officials have told industry groups that future export controls could cover the weights of the most capable AI models, not only the chips used to train them, according to three people who attended a closed-door briefing last week.",
        "The officials did not say whether openly published weights would be included. Several attendees said the department appeared more interested in unreleased frontier models held by a handful of American companies than in systems already available for download.",
        "Any rule that tried to restrict published weights would be hard to enforce, trade lawyers said, because copies spread within hours of release and can be hosted anywhere. Controls on unpublished weights would work more like existing rules for sensitive software, requiring licences for transfers to certain countries.",
        "Open-source advocates warned that even the prospect of controls could make companies reluctant to publish. A spokesperson for a coalition of research universities said academic groups depend on open models for work that private labs do not fund.",
        "The department is expected to publish a proposal for public comment before the end of the year.",
    ],
)

ARTICLES["inline-link-divs"] = dict(
    title="Hospital network moves patient summaries to a model it runs itself",
    author="Nadia Brooks",
    date="2026-08-27T10:05:00+01:00",
    site="Health Systems Today",
    lang="en",
    paras=[
        "A regional hospital network has started using an open-weight language model running on its own servers to draft discharge summaries, becoming one of the first health providers in the country to move such work away from a cloud service.",
        "Doctors review every summary before it is sent, the network said, and patient records never leave its data centre. The previous system relied on a commercial API, which required a lengthy data-protection assessment and limited which records could be processed.",
        "The network's chief clinical information officer said the switch cut the time doctors spend on summaries by about a third in a pilot on two wards. Errors found during review fell over the first month as the model was adjusted with examples written by senior clinicians.",
        "Patient groups asked for an independent audit. They said local hosting answered some privacy concerns but not questions about accuracy, and that patients should be told when software had drafted part of their records.",
        "The network plans to extend the system to all wards next spring if an evaluation by a university team confirms the pilot results.",
    ],
)
