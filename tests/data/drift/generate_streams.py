"""Deterministic generator of the labelled drift streams used by the drift tests.

Stream A: coverage dominated by openness and innovation that turns, at a known
date, to security-and-misuse coverage. Stream B: the same normal mix as stream
A before its shift, with the topic mix fluctuating day to day but stationary.

Articles are composed from hand-written sentences per frame, with slots filled
from small pools so wording varies. Run from the repo root:

    python tests/data/drift/generate_streams.py

It rewrites stream_a.jsonl, stream_b.jsonl and streams.json next to itself;
the output is committed, and the same seed always gives the same bytes.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20250310
START = datetime(2025, 2, 3, tzinfo=UTC)  # a Monday, so 7d windows line up with weeks
DAYS = 56
SHIFT_DAY = 35  # 2025-03-10, also a Monday

SLOTS: dict[str, list[str]] = {
    "model": [
        "Llama 3",
        "Llama 3.1",
        "Llama 3.1 405B",
        "Llama 4",
        "the latest Llama model",
        "Meta's newest Llama release",
    ],
    "person": [
        "Mark Zuckerberg",
        "Meta's chief executive",
        "Yann LeCun",
        "Meta's chief AI scientist",
        "a Meta spokesperson",
    ],
    "analyst": [
        "an industry analyst",
        "a researcher at Stanford",
        "a venture investor",
        "an MIT professor",
        "a former Google engineer",
        "a policy fellow in Washington",
    ],
    "official": [
        "a senior senator",
        "a Commerce Department official",
        "a European Commission spokesperson",
        "a White House adviser",
        "a member of the House intelligence committee",
    ],
    "number": ["thousands of", "hundreds of", "tens of thousands of", "more than a thousand"],
    "sector": ["healthcare", "education", "banking", "retail", "logistics", "legal services"],
}

BANK: dict[str, list[str]] = {
    "openness": [
        "{person} said releasing the model weights openly lets anyone inspect how {model} behaves.",
        "The company published the weights of {model} under a licence that allows commercial use.",
        "Supporters argue that openness brings scrutiny that closed labs cannot match.",
        "{person} framed the release as a matter of transparency, saying open source AI should be the standard.",
        "Because the weights are freely available, outside experts can audit the model instead of trusting a blog.",
        "Open weight models can be downloaded, modified and run on a company's own servers.",
        "{analyst} said the licence is more permissive than many expected, though it still carries some restrictions.",
        "Advocates compare the moment to the rise of Linux, when open source software displaced closed systems.",
        "Making the source code and weights public means no single vendor controls access to the technology.",
        "Customisation is the main draw: teams can adapt {model} to their own data without asking permission.",
        "The release notes describe the training data mix, an unusual degree of transparency for a frontier model.",
        "{person} wrote that open source AI would avoid lock-in and keep power from concentrating in a few companies.",
        "Openly released models give smaller countries and companies access to the benefits of AI.",
        "Critics of closed systems say transparency about model weights is the only way to verify safety claims.",
        "The download counter on the model page passed a million within days of the public release.",
        "{analyst} called the decision to share the model openly a turning point for the industry.",
        "Independent developers praised the openness of the release and the clear documentation.",
        "Meta said it would keep publishing open models because openness builds trust with developers.",
    ],
    "innovation": [
        "{number} developers have already built applications on top of {model}.",
        "Startups say the open model lets them experiment without paying per request to a cloud provider.",
        "Researchers at several universities are using {model} to study how language models reason.",
        "The developer community has released {number} fine-tuned versions on Hugging Face.",
        "A startup in Berlin built a {sector} assistant on the model in under a month.",
        "{analyst} said the ecosystem around open models is growing faster than anyone predicted.",
        "Academic labs that cannot afford frontier training runs can now build on a state-of-the-art base model.",
        "Contributors on GitHub have shared tools that make the model easier to deploy and evaluate.",
        "Companies in {sector} are adopting the model for internal prototypes and pilots.",
        "Open models tend to spread innovation quickly because improvements are shared back with the community.",
        "The collaboration between researchers and hobbyists has produced a string of derivative models.",
        "{person} said the goal is an ecosystem where anyone can build on the same foundation.",
        "Hackathons built around {model} drew {number} participants last weekend.",
        "Several research groups reported breakthroughs in multilingual translation using the open model.",
        "Developers said the model accelerates experimentation because they can inspect and change every layer.",
        "A university consortium plans to release an open benchmark suite built on the model.",
        "Young companies see the release as a platform to build products rather than a finished product.",
        "{analyst} noted that the number of startups building on open models has doubled this year.",
    ],
    "competition": [
        "The release puts pressure on {rival}, whose flagship {rival_model} remains a closed model.",
        "{rival} has kept its most capable systems proprietary, charging for access through an API.",
        "On several benchmarks {model} now matches {rival_model}, according to results published by Meta.",
        "{analyst} said the open model narrows the gap with closed competitors faster than expected.",
        "Proprietary labs argue their closed models remain ahead on reasoning and coding tasks.",
        "The move is widely read as a challenge to {rival} and its partners in the AI race.",
        "Leaderboards show open models catching up with closed rivals within months of each release.",
        "{rival} declined to comment on how the release affects its market share.",
        "The competition between open and closed models has become the defining rivalry in the industry.",
        "Some customers are testing {model} as a cheaper alternative to {rival_model}.",
        "Closed source vendors say their customers value support and reliability over access to weights.",
        "Tech giants are split between those who publish models and those who keep them closed.",
        "Meta's strategy aims to undercut competitors whose business depends on selling access to closed AI.",
        "{analyst} said {rival} may respond by releasing a smaller open model of its own.",
    ],
    "cost": [
        "Running {model} on in-house hardware costs a fraction of what API calls to a closed model would.",
        "Companies say the biggest draw is cost: inference on open models is far cheaper at scale.",
        "{analyst} estimated the savings at more than half of a typical monthly AI budget.",
        "The price per token of hosted open models has fallen sharply since the release.",
        "Meta is spending billions of dollars on data centers and GPUs to train the next generation.",
        "Smaller quantised versions run on a single GPU, which makes the model affordable for startups.",
        "Efficiency gains mean the model needs less compute than its predecessor for the same quality.",
        "Cloud providers cut their prices for hosting open models within weeks of the launch.",
        "Finance chiefs are asking whether the capital expenditure on AI will ever pay off.",
        "Cost efficiency was one of the three advantages {person} listed in the announcement.",
        "Energy use and compute bills remain the largest expenses for companies deploying large models.",
        "A {sector} firm said switching to an open model cut its inference spending by 70 percent.",
    ],
    "safety": [
        "Security researchers warned that open weights make it easy to remove the safeguards built into {model}.",
        "Within days, users had published jailbreak prompts that bypass the model's guardrails.",
        "Experts fear the model could be misused to write malware or plan cyberattacks.",
        "A red team study found the model gave detailed guidance that could help build biological weapons.",
        "Officials said bad actors could fine-tune away the safety training in a few hours.",
        "Scammers are already using open models to generate convincing phishing emails and fraud scripts.",
        "{analyst} said the risk of misuse grows with every more capable open release.",
        "Deepfake videos made with open tools have been used in election disinformation campaigns.",
        "Uncensored versions of the model circulate on forums where users trade malicious prompts.",
        "The safety report acknowledged that once weights are released, harmful uses cannot be recalled.",
        "Researchers showed that the model can help hackers find and exploit software vulnerabilities.",
        "Child safety groups warned that open image models are being abused to create illegal material.",
        "A lab evaluation found the model more willing than closed rivals to answer dangerous chemistry questions.",
        "Security teams reported a rise in automated attacks that appear to use open language models.",
        "{person} insisted the company runs extensive safety testing before every release.",
        "Critics say the misuse of open models for disinformation is no longer hypothetical.",
        "Cybersecurity firms said criminal groups fine-tuned the model to write ransomware code.",
        "The threat of catastrophic misuse, including pathogen design, dominated the hearing.",
        "Safety researchers called for guardrails that cannot be stripped out by fine-tuning.",
        "Fraud investigators linked a wave of voice-cloning scams to freely available models.",
    ],
    "geopolitics": [
        "US officials worry that Chinese labs are building on open American models to close the gap.",
        "Reports that researchers linked to the Chinese military used {model} alarmed lawmakers in Washington.",
        "National security officials argue open weights hand adversaries capabilities they could not build alone.",
        "{official} said export controls on chips mean little if the models themselves are given away.",
        "Beijing has encouraged its own companies to release open models to win developers abroad.",
        "The Pentagon is reviewing whether open models can be used safely in defense systems.",
        "The AI contest between the United States and China increasingly resembles an arms race.",
        "DeepSeek's rapid progress has sharpened the debate over whether openness helps rivals.",
        "Intelligence agencies warned that state hackers are experimenting with open models for espionage.",
        "Allies in Europe and Asia are weighing how to keep sensitive AI capabilities out of adversaries' hands.",
        "{person} argued that open models strengthen the United States and its allies against China.",
        "{analyst} said the geopolitical stakes now shape every decision about releasing model weights.",
        "Sanctions and chip restrictions have not stopped Chinese firms from matching American models.",
        "Defence ministries are drafting rules on the military use of commercially available AI.",
    ],
    "regulation": [
        "{official} said Congress is considering rules that would require licences for the most capable models.",
        "The EU AI Act sets lighter obligations for open source models, with exceptions for systemic risk.",
        "Lawmakers asked Meta to explain what oversight it applies before releasing model weights.",
        "Regulators are debating whether developers should bear liability for how open models are used.",
        "A proposed state law would hold model developers responsible for catastrophic harms.",
        "The White House executive order asked agencies to study the risks and benefits of open weights.",
        "Compliance teams say the rules for open models remain unclear on both sides of the Atlantic.",
        "{official} told a Senate hearing that regulation should target uses rather than code.",
        "Policymakers in Brussels are drafting guidance on how the AI Act applies to open releases.",
        "Industry groups lobbied against legislation they said would effectively ban open source AI.",
        "A copyright lawsuit over training data could shape how open models are built.",
        "Governments are under pressure to write rules before the next generation of models arrives.",
    ],
    "neutral": [
        "Meta did not immediately respond to a request for comment.",
        "The announcement was made at an event in Menlo Park on Tuesday.",
        "Shares of Meta rose slightly in afternoon trading.",
        "The company said more details would be shared in the coming weeks.",
        "The debate is likely to continue as new models are released.",
        "Meta first released a Llama model in early 2023.",
        "Reporters were given a short demonstration before the launch.",
        "The model is available in several sizes, from small to very large.",
        "It is not yet clear how widely the model will be used outside the technology sector.",
        "The company plans to discuss the results at its developer conference.",
    ],
}

TITLES: dict[str, list[str]] = {
    "openness": [
        "Meta doubles down on open weights with {model}",
        "Why {person} says open source AI is the path forward",
        "Inside the push to make AI models transparent",
        "Open weights, open questions: {model} goes public",
        "Meta's open model bet rests on transparency",
    ],
    "innovation": [
        "Developers flock to {model} as the open ecosystem grows",
        "Startups build a new wave of {sector} apps on open models",
        "Researchers embrace {model} for open experimentation",
        "How open models are changing the startup playbook",
    ],
    "competition": [
        "{model} takes aim at {rival}'s closed models",
        "Open versus closed: {rival} feels the pressure from Meta",
        "Benchmarks show open models catching {rival_model}",
    ],
    "cost": [
        "Open models slash AI bills for {sector} firms",
        "The economics of running {model} yourself",
        "Meta's spending spree on AI infrastructure continues",
    ],
    "safety": [
        "Researchers strip safeguards from {model} within days",
        "Open AI models fuel a wave of scams and malware, experts warn",
        "Misuse fears grow as jailbreaks spread for {model}",
        "Bioweapon risk report puts open models under scrutiny",
        "Security experts sound alarm over uncensored Llama copies",
    ],
    "geopolitics": [
        "Chinese military researchers used {model}, documents show",
        "Washington weighs national security risks of open AI",
        "Open models and the US-China AI arms race",
    ],
    "regulation": [
        "Lawmakers press Meta over open model releases",
        "Regulators struggle to define rules for open source AI",
        "What the AI Act means for open models",
    ],
}

# A rival and its flagship are drawn together so a sentence never pairs Google with Claude.
RIVALS = [
    ("OpenAI", "GPT-4o"),
    ("Google", "Gemini"),
    ("Anthropic", "Claude"),
    ("OpenAI", "GPT-4"),
    ("Mistral", "Mistral Large"),
]

NORMAL_MIX = {
    "openness": 0.30,
    "innovation": 0.25,
    "competition": 0.15,
    "cost": 0.10,
    "safety": 0.08,
    "geopolitics": 0.06,
    "regulation": 0.06,
}
SHIFTED_MIX = {
    "openness": 0.07,
    "innovation": 0.06,
    "competition": 0.05,
    "cost": 0.04,
    "safety": 0.45,
    "geopolitics": 0.23,
    "regulation": 0.10,
}


def _dirichlet(rng: random.Random, mean: dict[str, float], concentration: float) -> dict[str, float]:
    draws = {k: rng.gammavariate(max(v * concentration, 1e-3), 1.0) for k, v in mean.items()}
    whole = sum(draws.values())
    return {k: v / whole for k, v in draws.items()}


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _fill(rng: random.Random, template: str) -> str:
    rival, rival_model = rng.choice(RIVALS)
    out = template.replace("{rival}", rival).replace("{rival_model}", rival_model)
    for name, pool in SLOTS.items():
        while "{" + name + "}" in out:
            out = out.replace("{" + name + "}", rng.choice(pool), 1)
    return out[0].upper() + out[1:]


def _article(
    rng: random.Random, stream: str, day: int, seq: int, mix: dict[str, float], regime: str
) -> dict[str, object]:
    own = _dirichlet(rng, mix, 8.0)
    lead = max(own, key=lambda k: own[k])
    sentences: list[str] = []
    used: set[str] = set()
    for _ in range(rng.randint(7, 13)):
        frame = "neutral" if rng.random() < 0.12 else _pick(rng, own)
        choices = [s for s in BANK[frame] if s not in used] or BANK[frame]
        template = rng.choice(choices)
        used.add(template)
        sentences.append(_fill(rng, template))
    published = START + timedelta(days=day, seconds=rng.randint(6 * 3600, 22 * 3600))
    paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    return {
        "article_id": f"{stream}-{day:03d}-{seq:02d}",
        "title": _fill(rng, rng.choice(TITLES[lead])),
        "published_at": published.isoformat(),
        "text": "\n\n".join(paragraphs),
        "regime": regime,
        "lead_frame": lead,
    }


def generate(stream: str, shifted: bool, seed: int) -> list[dict[str, object]]:
    """All articles of one stream in publication order."""
    rng = random.Random(seed)
    articles: list[dict[str, object]] = []
    for day in range(DAYS):
        after = shifted and day >= SHIFT_DAY
        regime = "shifted" if after else "normal"
        day_mix = _dirichlet(rng, SHIFTED_MIX if after else NORMAL_MIX, 40.0)
        weekend = (START + timedelta(days=day)).weekday() >= 5
        count = rng.randint(5, 9) if weekend else rng.randint(14, 22)
        day_articles = [_article(rng, stream, day, i, day_mix, regime) for i in range(count)]
        articles.extend(sorted(day_articles, key=lambda a: (str(a["published_at"]), str(a["article_id"]))))
    return articles


def main() -> None:
    streams = {"a": generate("a", shifted=True, seed=SEED), "b": generate("b", shifted=False, seed=SEED + 1)}
    for name, articles in streams.items():
        with (HERE / f"stream_{name}.jsonl").open("w", encoding="utf-8") as fh:
            for article in articles:
                fh.write(json.dumps(article, ensure_ascii=False, sort_keys=True) + "\n")
    meta = {
        "seed": SEED,
        "start": START.isoformat(),
        "days": DAYS,
        "streams": {
            "a": {
                "file": "stream_a.jsonl",
                "shift_at": (START + timedelta(days=SHIFT_DAY)).isoformat(),
                "description": "openness/innovation coverage turning to security and misuse at shift_at",
                "articles": len(streams["a"]),
            },
            "b": {
                "file": "stream_b.jsonl",
                "shift_at": None,
                "description": "no shift: the normal mix with random but stationary day-to-day variation",
                "articles": len(streams["b"]),
            },
        },
        "normal_mix": NORMAL_MIX,
        "shifted_mix": SHIFTED_MIX,
    }
    (HERE / "streams.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
