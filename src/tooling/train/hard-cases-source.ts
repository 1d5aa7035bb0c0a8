/**
 * The hand-written hard cases behind `hard-cases.jsonl` (see docs/hard-cases.md): short passages taken
 * from the dev contexts, each with answers that keep its meaning in other words (`ok`) and answers
 * that change one fact and little else (`wrong`). Nothing is trained on these rows; they are a test.
 *
 * `build-hard-cases.ts` wraps each answer into a real OpenAI or Anthropic exchange.
 */

export interface HardCaseRow {
  /** `paraphrase`: meaning kept, expected not hallucinated; `edit`: one fact changed, expected hallucinated. */
  kind: 'paraphrase' | 'edit';
  /** What was done to the passage's wording: voice, synonym, antonym, role_swap, … (docs/hard-cases.md). */
  edit: string;
  answer: string;
}

export interface HardCasePassage {
  /** Shared by every row written from this passage. */
  pair: string;
  /** The dev row the passage was taken from, or `issue-20` for the issue's own examples. */
  source: string;
  context: string;
  /** What the user asks about the passage. */
  ask: string;
  rows: HardCaseRow[];
}

const ok = (edit: string, answer: string): HardCaseRow => ({ kind: 'paraphrase', edit, answer });
const wrong = (edit: string, answer: string): HardCaseRow => ({ kind: 'edit', edit, answer });

export const PASSAGES: HardCasePassage[] = [
  // The six cases measured in issue 20, each with a few more rewrites of the same sentence.
  {
    pair: 'exports',
    source: 'issue-20',
    context: 'Exports fell by 8 percent in March.',
    ask: 'What happened to exports in March?',
    rows: [
      ok('synonym', 'In March, exports decreased by 8 percent.'),
      ok('number_words', 'Exports dropped eight per cent in March.'),
      ok('derivation', 'March saw an 8 percent fall in exports.'),
      wrong('antonym', 'Exports rose by 8 percent in March.'),
      wrong('number_change', 'Exports fell by 18 percent in March.'),
      wrong('attachment', 'Exports fell by 8 percent in May.'),
      wrong('entity_change', 'Imports fell by 8 percent in March.'),
    ],
  },
  {
    pair: 'nurses',
    source: 'issue-20',
    context: 'The firm hired 40 nurses last year, bringing its staff to 600.',
    ask: 'How did the firm\'s staff change last year?',
    rows: [
      ok('hypernym', 'After adding 40 nurses last year, the firm employs 600 people.'),
      ok('voice', 'Forty nurses were hired by the firm last year, which brought its staff to 600.'),
      ok('drop_detail', 'The firm now has a staff of 600.'),
      wrong('number_swap', 'The firm hired 600 nurses last year, bringing its staff to 40.'),
      wrong('antonym', 'The firm laid off 40 nurses last year, bringing its staff to 600.'),
      wrong('negation', 'The firm did not hire any nurses last year, although its staff reached 600.'),
    ],
  },
  {
    pair: 'museum',
    source: 'issue-20',
    context: 'The museum opened in 1998 and attracts two million visitors a year.',
    ask: 'Tell me about the museum.',
    rows: [
      ok('number_words', 'The museum, which opened its doors in 1998, draws around 2 million visitors annually.'),
      ok('reorder', 'Two million people visit the museum every year; it first opened in 1998.'),
      wrong('number_change', 'The museum opened in 1998 and attracts twelve million visitors a year.'),
      wrong('antonym', 'The museum closed in 1998, having attracted two million visitors a year.'),
      wrong('attachment', 'The museum opened with two million visitors in 1998.'),
    ],
  },
  {
    pair: 'council',
    source: 'issue-20',
    context: 'The city council approved the new parking plan on Tuesday.',
    ask: 'What did the city council decide about parking?',
    rows: [
      ok('voice', 'The new parking plan was approved by the city council on Tuesday.'),
      ok('derivation', 'On Tuesday the city council gave its approval to the new parking plan.'),
      ok('hypernym', 'The council approved a new plan on Tuesday.'),
      wrong('antonym', 'The city council rejected the new parking plan on Tuesday.'),
      wrong('negation', 'The city council did not approve the new parking plan on Tuesday.'),
      wrong('attachment', 'The city council approved the new parking plan on Thursday.'),
    ],
  },

  // FaithBench contexts.
  {
    pair: 'poseidon',
    source: 'faithbench-1-0',
    context: 'Poseidon (film) . Poseidon grossed $ 181,674,817 at the worldwide box office on a budget of $ 160 million .',
    ask: 'Summarize the passage in one sentence.',
    rows: [
      ok('reorder', 'Made on a budget of $160 million, Poseidon took in $181,674,817 worldwide.'),
      ok('number_words', 'The film Poseidon cost 160 million dollars and grossed about $181.7 million around the world.'),
      ok('voice', 'A worldwide box-office gross of $181,674,817 was earned by Poseidon, whose budget was $160 million.'),
      wrong('number_swap', 'Poseidon grossed $160 million at the worldwide box office on a budget of $181,674,817.'),
      wrong('number_change', 'Poseidon grossed $181,674,817 at the worldwide box office on a budget of $60 million.'),
      wrong('added_detail', 'Poseidon grossed $181,674,817 worldwide on a budget of $160 million, making it the biggest hit of its year.'),
    ],
  },
  {
    pair: 'a9-crash',
    source: 'faithbench-2-40',
    context:
      'The incident occurred on the A9 north of Berriedale in Caithness at about 14:00. Several other people received minor injuries in the crash. The road was closed and diversions were put in place via the A897 Helmsdale to Melvich road.',
    ask: 'Briefly, what happened on the A9?',
    rows: [
      ok('number_words', 'The crash happened on the A9 north of Berriedale, Caithness, at around 2pm, and several other people were slightly hurt.'),
      ok('voice', 'After the road was shut, traffic was diverted along the A897 Helmsdale to Melvich road.'),
      ok('drop_detail', 'There was a crash on the A9 in Caithness.'),
      wrong('antonym', 'The crash happened on the A9 north of Berriedale at about 14:00, and several other people were seriously injured.'),
      wrong('attachment', 'The incident occurred on the A897 north of Berriedale, and diversions were put in place via the A9.'),
      wrong('negation', 'The incident occurred on the A9 north of Berriedale, but the road stayed open and no diversions were needed.'),
      wrong('quantifier', 'Everyone else involved in the A9 crash near Berriedale received minor injuries.'),
    ],
  },
  {
    pair: 'the-millers',
    source: 'faithbench-3-0',
    context:
      "The Millers . The multi-camera series aired from October 3 , 2013 to July 18 , 2015 and ran 34 episodes over two seasons on CBS . CBS announced the cancellation of The Millers on November 14 , 2014 , four episodes into the show 's second season .",
    ask: 'Summarize the passage above in a few sentences.',
    rows: [
      ok('derivation', 'The Millers was cancelled by CBS on November 14, 2014, four episodes into its second season.'),
      ok('number_words', 'The CBS series ran for two seasons and thirty-four episodes, from October 2013 to July 2015.'),
      ok('pronoun', 'CBS aired The Millers from October 3, 2013 to July 18, 2015. It ran 34 episodes over two seasons.'),
      wrong('attachment', 'CBS announced the cancellation of The Millers on July 18, 2015, four episodes into the show\'s second season.'),
      wrong('number_change', 'The multi-camera series ran 43 episodes over two seasons on CBS.'),
      wrong('name_change', 'NBC announced the cancellation of The Millers on November 14, 2014.'),
      wrong('antonym', 'CBS announced the renewal of The Millers on November 14, 2014, four episodes into its second season.'),
    ],
  },
  {
    pair: 'morton-alloa',
    source: 'faithbench-3-20',
    context:
      "McManus netted from close range on the quarter-hour mark to open the scoring and Ross Forbes' deflected strike quickly doubled Morton's lead. A shot by Kyle McAusland pulled Alloa back into the game before half-time.",
    ask: 'Summarise the match report.',
    rows: [
      ok('voice', "Morton's lead was quickly doubled by a deflected strike from Ross Forbes, after McManus had opened the scoring from close range."),
      ok('number_words', 'McManus scored from close range after fifteen minutes, and Forbes soon made it two with a deflected shot.'),
      ok('synonym', 'Before the break, Alloa got themselves back into the game through a Kyle McAusland shot.'),
      wrong('role_swap', "Ross Forbes netted from close range on the quarter-hour mark to open the scoring, and McManus's deflected strike doubled Morton's lead."),
      wrong('role_swap', 'A shot by Kyle McAusland pulled Morton back into the game against Alloa before half-time.'),
      wrong('attachment', 'McManus opened the scoring from close range, and a shot by Kyle McAusland pulled Alloa back into the game on the quarter-hour mark.'),
    ],
  },
  {
    pair: 'smith-loan',
    source: 'faithbench-4-30',
    context:
      'The Dons loaned Smith, 21, to United in July and he has five goals this season. Scotland Under-21 cap Smith made his Aberdeen debut in 2012 and has scored four times in 89 appearances for the Pittodrie side.',
    ask: 'Who is Smith? Answer from the text.',
    rows: [
      ok('voice', 'Smith, 21, was loaned to United by the Dons in July and has scored five goals this season.'),
      ok('number_words', 'Since his Aberdeen debut in 2012 he has scored four goals in eighty-nine games for the Pittodrie side.'),
      ok('combine', 'Smith, a 21-year-old Scotland Under-21 cap, has five goals this season after joining United on loan from the Dons in July.'),
      wrong('number_swap', 'The Dons loaned Smith to United in July and he has four goals this season; he has scored five times in 89 appearances for Aberdeen.'),
      wrong('role_swap', 'United loaned Smith, 21, to the Dons in July and he has five goals this season.'),
      wrong('attachment', 'The Dons loaned Smith, 21, to United in 2012, and he made his Aberdeen debut in July.'),
    ],
  },
  {
    pair: 'milner',
    source: 'faithbench-5-0',
    context:
      'The former Manchester City man, 30, won 61 caps for England after making his senior debut in 2009. He was a squad member at two World Cups and two European Championships but played just three minutes at Euro 2016. Milner also holds the record for the most capped England Under-21 player, picking up 46 caps after making his first appearance in 2004.',
    ask: 'Summarize the passage above in a few sentences.',
    rows: [
      ok('number_words', 'Milner, 30, won sixty-one senior England caps after debuting in 2009.'),
      ok('synonym', 'He is England\'s most capped Under-21 player, with 46 caps since first appearing in 2004.'),
      ok('combine', 'The former Manchester City player went to two World Cups and two European Championships with England, though he played only three minutes at Euro 2016.'),
      wrong('number_swap', 'Milner won 46 caps for England after his senior debut in 2009, and holds the Under-21 record with 61 caps.'),
      wrong('attachment', 'Milner made his senior England debut in 2004 and went on to win 61 caps.'),
      wrong('quantifier', 'He played in every match at two World Cups and two European Championships, including Euro 2016.'),
      wrong('negation', 'Milner was never part of an England World Cup squad.'),
    ],
  },
  {
    pair: 'locke',
    source: 'faithbench-5-20',
    context:
      "kilmarnock interim manager gary locke has been given the role on a permanent basis after signing a three-year deal . the former hearts boss joined the club as assistant boss to allan johnston last summer but took control of the team when his ex-tynecastle team-mate quit at the start of february . the 41-year-old - who will speak at a press conference on friday morning - has lost just once in seven games since taking over at rugby park .",
    ask: 'Summarize the article in two sentences.',
    rows: [
      ok('voice', 'Kilmarnock have handed Gary Locke the manager\'s job permanently on a three-year contract.'),
      ok('number_words', 'Locke, 41, has suffered only one defeat in 7 matches since he took charge.'),
      ok('reorder', 'When Allan Johnston quit at the start of February, Locke, his assistant since last summer, took control of the team.'),
      wrong('role_swap', 'Allan Johnston joined Kilmarnock as assistant to Gary Locke last summer and took over when Locke quit in February.'),
      wrong('antonym', 'Gary Locke has won just once in seven games since taking over at Rugby Park.'),
      wrong('added_detail', 'Gary Locke has signed a three-year deal worth £500,000 a year to stay as Kilmarnock manager.'),
      wrong('number_change', 'Kilmarnock have given interim manager Gary Locke the job permanently on a five-year deal.'),
    ],
  },
  {
    pair: 'storey',
    source: 'faithbench-6-0',
    context:
      'Storey is Britain\'s most decorated female Paralympian with 22 medals. She has won 11 gold, eight silver and three bronze medals in both cycling and swimming across six Paralympics. She won four golds at the 2012 Games in London and has now won 21 world titles across both sports. Storey began her sporting career in the pool, winning six medals at the 1992 Paralympics before switching to cycling in 2005.',
    ask: 'Give me a short summary of Storey\'s record.',
    rows: [
      ok('number_words', 'With 22 medals, eleven of them gold, Storey is the most decorated British female Paralympian.'),
      ok('hypernym', 'Over six Paralympic Games she has won medals in two sports.'),
      ok('quantifier_weaken', 'Storey has won Paralympic medals in cycling.'),
      ok('voice', 'Six medals were won by Storey as a swimmer at the 1992 Paralympics; she took up cycling in 2005.'),
      wrong('number_swap', 'She has won 8 gold, 11 silver and three bronze medals across six Paralympics.'),
      wrong('attachment', 'Storey switched to cycling in 1992, after winning six medals in the pool.'),
      wrong('role_swap', 'Storey began her sporting career in cycling before switching to swimming in 2005.'),
      wrong('number_change', 'She won four golds at the 2012 Games in London and has now won 12 world titles.'),
    ],
  },
  {
    pair: 'james-jones',
    source: 'faithbench-6-20',
    context:
      'James Jones (author) . He won the 1952 National Book Award for his first published novel , From Here to Eternity , which was adapted for the big screen immediately and made into a television series a generation later .',
    ask: 'Summarize the passage above in a few sentences.',
    rows: [
      ok('voice', 'From Here to Eternity, the first novel James Jones published, earned him the 1952 National Book Award.'),
      ok('hypernym', 'The book was quickly turned into a film and, years afterwards, into a TV series.'),
      wrong('attachment', 'From Here to Eternity was made into a television series immediately and adapted for the big screen a generation later.'),
      wrong('number_change', 'James Jones won the 1952 National Book Award for his second published novel, From Here to Eternity.'),
      wrong('negation', 'James Jones was nominated for, but did not win, the 1952 National Book Award.'),
    ],
  },
  {
    pair: 'sheerin',
    source: 'faithbench-6-30',
    context:
      'Former Dons midfielder Sheerin, 39, has been player-manager at the Red Lichties since 2010 and replaces Neil Cooper at Pittodrie. Arbroath were relegated to Scottish League Two after finishing season 2013-14 bottom of League One. Aberdeen chief executive Duncan Fraser said boss Derek McInnes chose Sheerin after "a comprehensive process".',
    ask: 'Summarise this news item.',
    rows: [
      ok('synonym', 'Sheerin, a 39-year-old former Dons midfielder, takes over from Neil Cooper at Pittodrie.'),
      ok('reorder', 'After finishing bottom of League One in 2013-14, Arbroath went down to Scottish League Two.'),
      ok('voice', 'Sheerin was chosen by Derek McInnes after what chief executive Duncan Fraser called "a comprehensive process".'),
      wrong('role_swap', 'Neil Cooper, 39, replaces Sheerin at Pittodrie.'),
      wrong('antonym', 'Arbroath were promoted to Scottish League Two after finishing season 2013-14 top of League One.'),
      wrong('name_change', 'Aberdeen chief executive Duncan Fraser chose Sheerin after "a comprehensive process".'),
    ],
  },
  {
    pair: 'euro-spending',
    source: 'faithbench-7-0',
    context:
      "UKIP, which won May's election, spent £2,956,737, while the Tories' campaign expenditure was £2,980,815,The Lib Dems spent £1,580,575 and lost all but one of their MEPs - Labour, which came second, spent £1,027,339.",
    ask: 'How much did the parties spend?',
    rows: [
      ok('derivation', "UKIP won May's election after spending £2,956,737, and the Tories spent £2,980,815 on their campaign."),
      ok('quantifier', 'The Lib Dems spent £1,580,575 and kept only one of their MEPs.'),
      ok('comparison', 'The Conservatives spent slightly more than UKIP, even though UKIP won.'),
      ok('synonym', 'Labour, the runner-up, spent £1,027,339.'),
      wrong('number_swap', "UKIP, which won May's election, spent £2,980,815, while the Tories' campaign expenditure was £2,956,737."),
      wrong('comparison', 'UKIP spent more on its campaign than the Conservatives did.'),
      wrong('attachment', "Labour, which won May's election, spent £1,027,339, while UKIP came second."),
      wrong('quantifier', 'The Lib Dems spent £1,580,575 and lost all of their MEPs.'),
    ],
  },
  {
    pair: 'euro-spending-2009',
    source: 'faithbench-7-0',
    context:
      'The Green Party, which came fourth, spent £534,249 on its campaign - 43p for each of its 1,255,573 votes. All but Labour spent more than they did during the 2009 European election campaign.',
    ask: 'What does the passage say about spending compared with 2009?',
    rows: [
      ok('quantifier_weaken', 'Some parties spent more than they had in the 2009 European election campaign.'),
      ok('negation', 'Labour was the only party that did not spend more than it had in 2009.'),
      ok('number_words', 'The Greens, fourth in the vote, spent £534,249, or 43p for each of their roughly 1.26 million votes.'),
      wrong('quantifier', 'Every party, Labour included, spent more than it did in the 2009 European election campaign.'),
      wrong('name_change', 'All but the Green Party spent more than they did during the 2009 European election campaign.'),
      wrong('number_swap', 'The Green Party spent £1,255,573 on its campaign, 43p for each of its 534,249 votes.'),
    ],
  },
  {
    pair: 'beauty-beast',
    source: 'faithbench-7-10',
    context:
      "Fellow Oscar-winner Kevin Kline has also signed on to play Maurice, the father of the 'Beauty' character Belle. The film will be released in US cinemas on 17 March 2017.It was announced in January that Harry Potter star Emma Watson had been cast as Belle.",
    ask: 'Who is in the cast, and when does it open?',
    rows: [
      ok('voice', "Maurice, Belle's father, will be played by Kevin Kline."),
      ok('number_words', 'The film opens in American cinemas on March 17, 2017.'),
      ok('reorder', 'Emma Watson, the Harry Potter star, was cast as Belle, as was announced in January.'),
      wrong('role_swap', 'Kevin Kline has signed on to play Belle, the daughter of Maurice.'),
      wrong('attachment', 'The film will be released in US cinemas in January 2017.'),
      wrong('name_change', 'It was announced in January that Harry Potter star Emma Stone had been cast as Belle.'),
      wrong('antonym', 'Kevin Kline has turned down the role of Maurice, the father of Belle.'),
    ],
  },
  {
    pair: 'ann-richards',
    source: 'faithbench-7-20',
    context:
      'A Democrat , she first came to national attention as the state treasurer of Texas , when she delivered the keynote address at the 1988 Democratic National Convention . Richards served as the 45th Governor of Texas from 1991 to 1995 and was defeated for re-election in 1994 by George W. Bush . Richards was the second female governor of Texas , and was frequently noted in the media for her outspoken feminism and her one-liners .',
    ask: 'Summarize the passage above in a few sentences.',
    rows: [
      ok('voice', 'George W. Bush defeated Richards when she ran for re-election in 1994.'),
      ok('synonym', "Richards was Texas's 45th governor, serving from 1991 until 1995, and only the second woman to hold the office."),
      ok('reorder', 'She gave the keynote address at the 1988 Democratic National Convention while she was state treasurer of Texas, which first brought her national attention.'),
      wrong('role_swap', 'Richards defeated George W. Bush for re-election in 1994.'),
      wrong('number_change', 'Richards was the first female governor of Texas.'),
      wrong('attachment', 'Richards delivered the keynote address at the 1994 Democratic National Convention.'),
      wrong('added_detail', 'Richards was defeated for re-election in 1994 by George W. Bush by a wide margin, after a bitter campaign.'),
    ],
  },
  {
    pair: 'anderson',
    source: 'faithbench-7-40',
    context:
      'Centre-back Anderson, 27, has cancelled his Barrow contract by mutual consent to join their National League rivals. The ex-Aldershot and Exeter player, who has also played in Italy, could feature against his old club on 18 February.',
    ask: 'Summarise the transfer news.',
    rows: [
      ok('voice', "Anderson's contract with Barrow has been ended by mutual agreement so the 27-year-old centre-back can join their National League rivals."),
      ok('pronoun', 'He could face Barrow, his former club, on 18 February.'),
      ok('hypernym', 'The 27-year-old defender has previously played for Aldershot and Exeter, and in Italy.'),
      wrong('role_swap', "Anderson has left Barrow's National League rivals to join Barrow."),
      wrong('number_change', 'Centre-back Anderson, 29, has cancelled his Barrow contract by mutual consent.'),
      wrong('added_detail', 'The ex-Aldershot and Exeter player, who has also played in Italy and Spain, could face Barrow on 18 February.'),
      wrong('negation', 'Anderson will not be able to play against his old club on 18 February.'),
    ],
  },
  {
    pair: 'beckford',
    source: 'faithbench-8-10',
    context:
      "west ham are discussing a deal for jamaican starlet deshane beckford after he impressed on trial . the skilful 17-year-old forward from montego bay united was invited to train with west ham 's academy earlier this month and has impressed coaches after spending two weeks with the club . beckford also has offers from clubs in belgium . beckford , who has been linked with a host of european clubs , is said to be one of the hottest prospects to emerge from the caribbean .",
    ask: 'Summarize the article in a couple of sentences.',
    rows: [
      ok('derivation', 'A deal for Deshane Beckford is being discussed by West Ham after his impressive trial.'),
      ok('number_words', 'The seventeen-year-old Montego Bay United forward spent a fortnight training with the West Ham academy this month.'),
      ok('reorder', 'Clubs in Belgium have also made him offers.'),
      ok('hypernym', 'The Jamaican teenager is seen as one of the brightest prospects from the Caribbean.'),
      wrong('role_swap', "Montego Bay United are discussing a deal for West Ham's Deshane Beckford."),
      wrong('number_change', 'Beckford impressed coaches after spending two months with the club.'),
      wrong('name_change', 'Beckford also has offers from clubs in the Netherlands.'),
      wrong('quantifier', 'Beckford has been linked with every major club in Europe.'),
    ],
  },
  {
    pair: 'mr-mole',
    source: 'faithbench-8-40',
    context:
      "mr mole , ap mccoy 's mount in the grade one celebration chase at sandown on saturday , has been installed as one of three 7-2 co-favourites in the seven-runner line-up . mr mole will be mccoy 's last ride in a grade one race .",
    ask: 'What does the text say about Mr Mole?',
    rows: [
      ok('voice', 'Mr Mole will be ridden by AP McCoy in the Grade One Celebration Chase at Sandown on Saturday, where he is one of three 7-2 joint favourites.'),
      ok('number_words', 'Seven horses will run, and Mr Mole is one of 3 co-favourites at 7-2.'),
      ok('synonym', "Mr Mole will give McCoy his final ride in a Grade One race."),
      wrong('number_swap', 'Mr Mole is one of seven 7-2 co-favourites in the three-runner line-up.'),
      wrong('negation', "Mr Mole will not be McCoy's last ride in a Grade One race."),
      wrong('name_change', "Mr Mole, AP McCoy's mount in the Grade One Celebration Chase at Newbury on Saturday, is one of three co-favourites."),
    ],
  },

  // QAGS CNN/DailyMail contexts (lower-cased as published).
  {
    pair: 'bamford',
    source: 'qags-cnndm-18',
    context:
      "Middlesbrough's patrick bamford has been named the championship player of the year at the football league awards. Bamford, on loan at the riverside stadium from chelsea, received the award at the gala ceremony in london on sunday evening in front of over 600 guests, following a vote among club managers. The 21 - year - old beat competition from ipswich town's daryl murphy and watford's troy deeney to claim the overall sky bet championship player of the year award.",
    ask: 'Summarize the article above in a few sentences.',
    rows: [
      ok('voice', "Club managers voted Middlesbrough's Patrick Bamford the Championship player of the year."),
      ok('combine', 'Bamford, 21, is playing for Middlesbrough on loan from Chelsea.'),
      ok('number_words', 'More than six hundred guests saw him collect the award in London on Sunday evening.'),
      wrong('role_swap', 'Bamford, on loan at Chelsea from Middlesbrough, was named the Championship player of the year.'),
      wrong('name_change', "Watford's Troy Deeney has been named the Championship player of the year at the Football League awards."),
      wrong('number_change', 'Bamford received the award in London on Sunday evening in front of over 6,000 guests.'),
      wrong('entity_change', 'Bamford won the award following a vote among supporters.'),
    ],
  },
  {
    pair: 'avocado',
    source: 'qags-cnndm-24',
    context:
      "Professor warren, based at the university of aberystwyth, wales, said the avocado tree displays `unique flowering behaviour'. He found that during the day the trees, which grow in tropical and mediterranean climates, flower with their `female parts' ready to be pollinated by bees. The flowers close for the night and then the next morning they reopen - but now they use their `male anthers' to spread their pollen.",
    ask: 'Summarise the findings.',
    rows: [
      ok('synonym', 'Professor Warren of Aberystwyth University says avocado trees flower in a unique way.'),
      ok('voice', "By day the flowers' female parts are ready to be pollinated by bees."),
      ok('reorder', 'The next morning the flowers open again and spread pollen with their male anthers, having closed overnight.'),
      wrong('attachment', 'During the day the flowers spread pollen with their male anthers, and the next morning they reopen with their female parts ready for bees.'),
      wrong('name_change', 'Professor Warren, based at Bangor University, said the avocado tree displays unique flowering behaviour.'),
      wrong('antonym', 'The flowers open for the night and close the next morning.'),
      wrong('added_detail', 'Professor Warren, who studied the trees for ten years in Mexico, found they flower with their female parts during the day.'),
    ],
  },
  {
    pair: 'missy',
    source: 'qags-cnndm-36',
    context:
      "A widower was miraculously reunited with his dog on saturday after a deadly tornado hit illinois on thursday. Sadly, owner clem schultz's beloved wife geraldine died in the blast. Schultz thought his dog missy suffered the same fate as his partner but after missy was spotted by a coned worker, police called schultz and reported the sighting.",
    ask: 'Summarize the article above in a few sentences.',
    rows: [
      ok('combine', 'Clem Schultz, whose wife Geraldine was killed when a tornado hit Illinois on Thursday, got his dog Missy back on Saturday.'),
      ok('voice', 'After a coned worker spotted Missy, the police rang Schultz to tell him.'),
      ok('hypernym', "The man's pet survived the storm."),
      wrong('attachment', 'A deadly tornado hit Illinois on Saturday, and the widower was reunited with his dog on Thursday.'),
      wrong('role_swap', "Clem Schultz's wife Missy died in the blast, but his dog Geraldine was found alive."),
      wrong('antonym', "Clem Schultz's wife Geraldine survived the tornado."),
      wrong('name_change', 'A widower was reunited with his dog on Saturday after a deadly tornado hit Indiana on Thursday.'),
    ],
  },
  {
    pair: 'tuttle-dogs',
    source: 'qags-cnndm-42',
    context:
      "The horrific incident happened after lisa and james tuttle moved with their five children to the rural village of geldeston in norfolk in 2005. But their happiness was shattered in 2014 after their dogs marley and lily were shot after escaping on to their neighbour's farmland where they were accused of killing his birds.",
    ask: 'Summarize the article above in a few sentences.',
    rows: [
      ok('voice', "In 2014 the Tuttles' dogs, Marley and Lily, got out onto the farmland next door and were shot."),
      ok('hypernym', 'The family, who have five children, moved to a village in Norfolk in 2005.'),
      ok('drop_detail', 'Two of the family\'s dogs were shot.'),
      wrong('attachment', 'Lisa and James Tuttle moved to Geldeston in 2014, and their dogs were shot in 2005.'),
      wrong('number_change', 'Lisa and James Tuttle moved with their three children to Geldeston in Norfolk in 2005.'),
      wrong('role_swap', "The neighbour's dogs escaped onto the Tuttles' land and were shot after killing their birds."),
      wrong('added_detail', 'The dogs were shot by the neighbour, who was later arrested by Norfolk police.'),
    ],
  },
  {
    pair: 'foreign-gps',
    source: 'qags-cnndm-66',
    context:
      'The number of gps from abroad is up by 11 per cent in a decade as the nhs tries to combat a shortage of staff. Figures from the health and social care information centre show that 22. 0 per cent of current gps gained their qualifications overseas, up from 19. 8 per cent in 2004. The nhs employs 40, 584 gps, of whom 8, 941 are from overseas.',
    ask: 'Summarize the article above in a few sentences.',
    rows: [
      ok('number_words', 'The number of GPs from abroad has risen eleven per cent over ten years.'),
      ok('reorder', 'In 2004, 19.8 per cent of GPs had qualified overseas; the share is now 22 per cent.'),
      ok('voice', 'Of the 40,584 GPs employed by the NHS, 8,941 come from overseas.'),
      wrong('number_swap', 'The NHS employs 8,941 GPs, of whom 40,584 are from overseas.'),
      wrong('antonym', 'The number of GPs from abroad is down by 11 per cent in a decade.'),
      wrong('number_change', 'The number of GPs from abroad is up by 17 per cent in a decade.'),
      wrong('added_detail', 'Figures show that 22.0 per cent of current GPs, most of them from India, gained their qualifications overseas.'),
    ],
  },
  {
    pair: 'bayern',
    source: 'qags-cnndm-78',
    context:
      'Bayern munich were crowned bundesliga champions for the third year running without even kicking a ball on sunday as their nearest rivals wolfsburg went down to a 1 - 0 defeat at borussia monchengladbach. They resisted until the last minute of the game, though, when max kruse struck to earn the foals a win which moves them up to third and secures their place in the champions league next season.',
    ask: 'Summarize the article above in a few sentences.',
    rows: [
      ok('voice', 'Wolfsburg lost 1-0 at Borussia Monchengladbach on Sunday, which handed Bayern Munich a third straight Bundesliga title.'),
      ok('combine', "Max Kruse scored the game's only goal in the last minute."),
      ok('synonym', 'Bayern won the league for the third consecutive season without playing on Sunday.'),
      wrong('role_swap', 'Borussia Monchengladbach went down to a 1-0 defeat at Wolfsburg on Sunday.'),
      wrong('antonym', 'Wolfsburg won 1-0 at Borussia Monchengladbach on Sunday.'),
      wrong('number_change', 'Bayern Munich were crowned Bundesliga champions for the fourth year running.'),
      wrong('attachment', "Max Kruse's last-minute goal moves Wolfsburg up to third and secures their Champions League place."),
    ],
  },
  {
    pair: 'morgan-sisters',
    source: 'qags-cnndm-84',
    context:
      "Two sisters who allowed their bank accounts to be used in a `vile' plot to con an elderly couple out of their $ 36, 000 life savings have avoided jail. Sheree morgan, 25, and younger sister sophie, 21, both of nelson, lancashire, agreed to let their bank accounts be used to accept thousands of pounds in stolen money after the victims were conned out of over $ 36, 000 over the telephone by a fraudster posing as a policeman.",
    ask: 'Summarize the article above in a few sentences.',
    rows: [
      ok('negation', 'Neither of the two sisters was sent to prison.'),
      ok('hypernym', 'Two women from Lancashire let their bank accounts be used to take in stolen money.'),
      ok('voice', 'An elderly couple lost more than $36,000 to a man on the telephone who pretended to be a police officer.'),
      wrong('number_swap', 'Sheree Morgan, 21, and her older sister Sophie, 25, let their bank accounts be used for stolen money.'),
      wrong('antonym', "Two sisters who allowed their bank accounts to be used in a plot to con an elderly couple have been jailed."),
      wrong('role_swap', 'The two sisters conned an elderly couple out of $36,000 over the telephone by posing as police officers.'),
      wrong('number_change', 'The elderly couple were conned out of their $360,000 life savings.'),
    ],
  },
  {
    pair: 'investiture',
    source: 'qags-cnndm-6',
    context:
      'The eyes of the nation were on the heir to the throne for the historic event on july 1, 1969, but behind the scenes, prime minister harold wilson was convinced terrorists campaigning for welsh independence would target charles - - then 20 - - at the caernarfon castle ceremony.',
    ask: 'Summarize the article above in a few sentences.',
    rows: [
      ok('synonym', 'Prime Minister Harold Wilson believed terrorists seeking Welsh independence would attack Charles at the Caernarfon Castle ceremony on 1 July 1969.'),
      ok('number_words', 'Charles was twenty at the time of the ceremony at Caernarfon Castle.'),
      wrong('number_change', 'Harold Wilson feared terrorists would target Charles, then 21, at the Caernarfon Castle ceremony.'),
      wrong('role_swap', 'Charles was convinced that terrorists campaigning for Welsh independence would target Harold Wilson at the ceremony.'),
      wrong('name_change', 'Harold Wilson was convinced terrorists would target Charles at the Cardiff Castle ceremony in 1969.'),
      wrong('negation', 'Harold Wilson did not believe that anyone would target Charles at the Caernarfon Castle ceremony.'),
    ],
  },

  // HaluEval QA knowledge passages.
  {
    pair: 'oberoi',
    source: 'halueval-qa-1-r',
    context:
      'The Oberoi family is an Indian family that is famous for its involvement in hotels, namely through The Oberoi Group.The Oberoi Group is a hotel company with its head office in Delhi.',
    ask: 'The Oberoi family is part of a hotel company that has a head office in what city?',
    rows: [
      ok('derivation', 'The Oberoi Group, the hotel company the Oberoi family is known for, is headquartered in Delhi.'),
      ok('drop_detail', 'Delhi.'),
      wrong('name_change', 'Its head office is in Mumbai.'),
      wrong('added_detail', 'The Oberoi Group, founded in 1934, has its head office in Delhi.'),
    ],
  },
  {
    pair: 'fillmore',
    source: 'halueval-qa-199-r',
    context:
      "Nathaniel Fillmore Jr. (April 19, 1771 – March 28, 1863) was an American farmer, and the father of Millard Fillmore, the 13th President of the United States. A former U.S. Representative from New York, Fillmore was elected the nation's 12th Vice President in 1848, and was elevated to the presidency by the death of Zachary Taylor.",
    ask: "Who was Nathaniel Fillmore Jr.'s son, and how did he become president?",
    rows: [
      ok('derivation', 'His son Millard Fillmore, elected Vice President in 1848, became the 13th President when Zachary Taylor died.'),
      ok('number_words', 'His son was Millard Fillmore, the twelfth Vice President and thirteenth President, who took office on the death of Zachary Taylor.'),
      wrong('number_swap', 'His son Millard Fillmore, the 12th President, had been elected the 13th Vice President in 1848.'),
      wrong('role_swap', 'Nathaniel Fillmore Jr. was the son of Millard Fillmore, who became president when Zachary Taylor died.'),
      wrong('attachment', 'Millard Fillmore became president in 1848 on the death of Zachary Taylor.'),
      wrong('antonym', 'Millard Fillmore was defeated for the vice presidency in 1848 but became president when Zachary Taylor died.'),
    ],
  },
  {
    pair: 'rosetta',
    source: 'halueval-qa-217-r',
    context:
      'The Rosetta Stone is a granodiorite stele, found in 1799, inscribed with three versions of a decree issued at Memphis, Egypt in 196 BC during the Ptolemaic dynasty on behalf of King Ptolemy V. Their rule lasted for 275 years, from 305 to 30 BC.',
    ask: 'What is the Rosetta Stone?',
    rows: [
      ok('reorder', 'Found in 1799, the Rosetta Stone carries three versions of a decree that was issued in Memphis in 196 BC for King Ptolemy V.'),
      ok('hypernym', 'The Rosetta Stone is an inscribed stone slab that was discovered in 1799.'),
      ok('number_words', 'It dates from the Ptolemaic dynasty, which ruled for two hundred and seventy-five years.'),
      wrong('number_change', 'The Rosetta Stone is inscribed with two versions of a decree issued at Memphis in 196 BC.'),
      wrong('attachment', 'The Rosetta Stone, found in 196 BC, is inscribed with a decree issued at Memphis in 1799.'),
      wrong('name_change', 'The decree on the Rosetta Stone was issued on behalf of King Ptolemy I.'),
    ],
  },
  {
    pair: 'dtek60',
    source: 'halueval-qa-154-r',
    context:
      'BlackBerry DTEK60 is an Android smartphone co-developed and distributed by BlackBerry Limited, and manufactured by TCL. BlackBerry was founded in 1984 as Research In Motion by Mike Lazaridis and Douglas Fregin.',
    ask: 'In what year was the company that co-developed and distributed the BlackBerry DTEK60 founded?',
    rows: [
      ok('voice', 'TCL makes the DTEK60, an Android phone co-developed and distributed by BlackBerry Limited, which was founded in 1984.'),
      ok('reorder', 'In 1984 Mike Lazaridis and Douglas Fregin founded the company, then called Research In Motion.'),
      wrong('role_swap', 'The DTEK60 is manufactured by BlackBerry Limited and distributed by TCL; BlackBerry was founded in 1984.'),
      wrong('number_change', 'BlackBerry Limited was founded in 1994 as Research In Motion.'),
      wrong('name_change', 'BlackBerry was founded in 1984 by Mike Lazaridis and Jim Balsillie.'),
    ],
  },
  {
    pair: 'presque-isle',
    source: 'halueval-qa-145-r',
    context:
      'Presque Isle State Park is a 3112 acre Pennsylvania state park on an arching, sandy peninsula that juts into Lake Erie, 4 mi west of the city of Erie, in Millcreek Township, Erie County, Pennsylvania, in the United States.',
    ask: 'Where is Presque Isle State Park and how big is it?',
    rows: [
      ok('number_words', 'The park covers 3,112 acres on a curved, sandy peninsula four miles west of Erie.'),
      ok('hypernym', 'It is a Pennsylvania state park on a peninsula that juts into a lake, in Erie County.'),
      wrong('antonym', 'Presque Isle State Park is 4 mi east of the city of Erie.'),
      wrong('number_change', 'Presque Isle State Park is a 1312 acre park on a sandy peninsula in Lake Erie.'),
      wrong('role_swap', 'The park lies in Erie Township, Millcreek County, Pennsylvania.'),
    ],
  },
  {
    pair: 'buemi',
    source: 'halueval-qa-82-r',
    context:
      'The 33-lap race was won by e.Dams-Renault driver Sébastien Buemi, who started from the seventh position.Sébastien Olivier Buemi (born 31 October 1988) is a Swiss professional racing driver, who formerly competed for Scuderia Toro Rosso in Formula One.',
    ask: 'Who won the race and where did he start?',
    rows: [
      ok('voice', 'Sébastien Buemi of e.Dams-Renault won the 33-lap race from seventh on the grid.'),
      ok('number_words', 'Buemi, a Swiss driver born on 31 October 1988, won the thirty-three-lap race after starting seventh.'),
      wrong('number_swap', 'Buemi won the 7-lap race after starting from 33rd position.'),
      wrong('antonym', 'Buemi, who currently competes for Scuderia Toro Rosso in Formula One, won the race from seventh.'),
      wrong('name_change', 'The race was won by Sébastien Buemi, a French driver, who started seventh.'),
    ],
  },
  {
    pair: 'titus',
    source: 'halueval-qa-244-r',
    context:
      'Titus is the original soundtrack to the 1999 motion picture "Titus". Starring Anthony Hopkins and Jessica Lange, it was the first theatrically-released feature film adaptation of the play.',
    ask: 'Titus is the soundtrack to the film that starred which actors?',
    rows: [
      ok('synonym', 'The 1999 film Titus starred Anthony Hopkins and Jessica Lange, and was the first feature film of the play to be released in cinemas.'),
      ok('drop_detail', 'Anthony Hopkins and Jessica Lange.'),
      wrong('number_change', 'Titus is the soundtrack to the 1989 film starring Anthony Hopkins and Jessica Lange.'),
      wrong('negation', 'The film, starring Anthony Hopkins and Jessica Lange, was never released in cinemas.'),
      wrong('name_change', 'Anthony Hopkins and Helen Mirren.'),
    ],
  },
  {
    pair: 'deal-timeball',
    source: 'halueval-qa-172-r',
    context:
      'Deal Timeball is a Victorian maritime Greenwich Mean Time signal located on the roof of a waterfront four-storey tower in the coastal town of Deal, in Kent, England.',
    ask: 'What and where is the Deal Timeball?',
    rows: [
      ok('reorder', 'On top of a four-storey waterfront tower in Deal, Kent, sits the Deal Timeball, a Victorian maritime time signal.'),
      ok('number_words', 'It is a Victorian Greenwich Mean Time signal on the roof of a 4-storey tower on the waterfront at Deal.'),
      wrong('number_change', 'Deal Timeball is a Victorian time signal on the roof of a five-storey tower in Deal, Kent.'),
      wrong('antonym', 'Deal Timeball is a Victorian time signal located at the foot of a waterfront tower in Deal.'),
      wrong('added_detail', 'Deal Timeball is a Victorian time signal in Deal, Kent, that still drops its ball every day at 1pm.'),
    ],
  },
];
